"""``cdcbridge doctor``: one preflight over every dependency, OK / WARN / FAIL with the fix.

``model`` (results, context, exit code, rendering) · ``registry`` (the list of checks: add new
ones there) · one module per area of checks · ``commands`` (the CLI).
"""
