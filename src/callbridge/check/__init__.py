"""``callbridge check``: an integrator's conformance check of a server that claims to speak the Telephony
Integration API. Each check is a small named function with one expectation taken from the spec
(``telephony-api.md``, ``real-clients.md``) and from Callbridge's decisions where the original is silent."""

from callbridge.check.context import CheckConfig
from callbridge.check.registry import CheckResult, Status
from callbridge.check.runner import all_checks, run_checks

__all__ = ["CheckConfig", "CheckResult", "Status", "all_checks", "run_checks"]
