"""Declarative contact-centre configuration: orgs, call centers with their certificates and phone
channels, queues, agents and flows, applied from a YAML file with ``callbridge apply -f FILE``.

``load_config`` reads and validates a file; ``apply_file`` plans it against the database and applies
it in one transaction. The file format is documented in docs/configuration.md.
"""

from callbridge.contact_center.errors import ConfigConflict, ConfigInvalid, ConfigProblem, DatabaseNotMigrated
from callbridge.contact_center.loader import LoadedConfig, load_config
from callbridge.contact_center.plan import Action, Change, Kind
from callbridge.contact_center.service import ApplyResult, apply_file

__all__ = [
    "Action",
    "ApplyResult",
    "Change",
    "ConfigConflict",
    "ConfigInvalid",
    "ConfigProblem",
    "DatabaseNotMigrated",
    "Kind",
    "LoadedConfig",
    "apply_file",
    "load_config",
]
