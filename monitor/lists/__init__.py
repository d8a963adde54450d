"""Entity lists (sanctions lists) imported as data for ``@list:NAME`` rule references.

``formats`` reads the published files (OpenSanctions FollowTheMoney JSON lines, the UN Security
Council consolidated list XML, OFAC's SDN XML) into ``ListEntry`` values; ``refresh`` fetches,
reads and stores them (the store keeps the last good version of each list).
"""
