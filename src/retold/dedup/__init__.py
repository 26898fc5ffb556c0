"""Duplicate levels, one module each (exact, near, semantic), listed in :mod:`.registry`.

:mod:`.level` says what a level is; :mod:`.clusters` holds the decisions every level fills (kept
or dropped, which cluster, which keeper) and the policy of who keeps a cluster; :mod:`.saved` the
index a later ``--against`` run reads.
"""
