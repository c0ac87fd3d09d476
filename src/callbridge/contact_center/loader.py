"""Reading a config file: YAML (duplicate keys refused, syntax errors with line and column), the schema,
and the certificates it names. Synchronous file I/O: call it from a thread in async code."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from callbridge.auth.certificates import MIN_KEY_BITS, CertificateError, ParsedCertificate, parse_pem
from callbridge.contact_center.errors import ConfigProblem, Loc, format_path
from callbridge.contact_center.schemas import ITEM_LISTS, ConfigFile, Removable, Spec

_PHONE_KEYS = frozenset({"dialed_number", "default_outbound_number", "routable_numbers"})
_LIST_KINDS = {"queues": "queue", "flows": "flow", "agents": "agent"}
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "a mapping",
    list: "a list",
    type(None): "nothing",
}


@dataclass
class LoadedConfig:
    """A file as read: its schema-valid part, the certificates it names, and every problem found so far.

    Items with schema errors are left out of ``spec`` (their names stay in ``unresolved`` so nothing
    reports them as unknown); ``loc`` of anything in ``spec`` goes through ``problem`` to name the
    original place in the file.
    """

    file: str
    path: Path
    source: str = ""  # the absolute path, for the ConfigRevision
    sha256: str = ""
    spec: ConfigFile | None = None
    problems: list[ConfigProblem] = field(default_factory=list)
    certificates: dict[Loc, ParsedCertificate] = field(default_factory=dict)
    # org index in ``spec`` -> kind ("queue", "flow", "agent") -> names of items left out
    unresolved: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    _kept: dict[Loc, list[int]] = field(default_factory=dict)

    def problem(self, loc: Loc, reason: str) -> None:
        self.problems.append(ConfigProblem(self.file, format_path(self.original(loc)), reason))

    def original(self, loc: Loc) -> Loc:
        """The place in the file of ``loc`` in ``spec`` (they differ once invalid items are left out)."""
        parts: list[str | int] = []
        for position, part in enumerate(loc):
            kept = self._kept.get(loc[:position])
            parts.append(kept[part] if isinstance(part, int) and kept is not None else part)
        return tuple(parts)


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (plain YAML keeps the last silently)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with `<<` may be overridden: that is what merging is for
        key = loader.construct_object(key_node)
        try:
            first = seen.get(key)
        except TypeError:
            continue  # an unhashable key: construct_mapping reports it
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given on line {first})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_config(path: Path) -> LoadedConfig:
    """Read and validate ``path``; problems are collected in the result, never raised."""
    config = LoadedConfig(file=str(path), path=path, source=str(path.resolve()))
    try:
        data = path.read_bytes()
    except OSError as exc:
        config.problems.append(ConfigProblem(config.file, "", f"cannot read the file ({exc.strerror or exc})"))
        return config
    config.sha256 = hashlib.sha256(data).hexdigest()
    try:
        raw = yaml.load(data.decode("utf-8-sig"), Loader=_Loader)  # a SafeLoader subclass
    except UnicodeDecodeError as exc:
        config.problems.append(ConfigProblem(config.file, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return config
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else ""
        reason = exc.problem or "invalid YAML"
        if exc.context:
            reason = f"{reason} ({exc.context})"
        config.problems.append(ConfigProblem(config.file, where, reason))
        return config
    except yaml.YAMLError as exc:
        config.problems.append(ConfigProblem(config.file, "", f"invalid YAML ({exc})"))
        return config
    if raw is None:
        config.problems.append(ConfigProblem(config.file, "", "the file is empty: expected a mapping with `orgs`"))
        return config
    _validate(config, raw)
    if config.spec is not None:
        _load_certificates(config)
    return config


def _validate(config: LoadedConfig, raw: Any) -> None:
    try:
        config.spec = ConfigFile.model_validate(raw)
        return
    except ValidationError as exc:
        errors = exc.errors()
    for error in errors:
        loc = tuple(part for part in error["loc"] if part != "[key]")
        config.problems.append(ConfigProblem(config.file, format_path(loc), _reason(error, loc)))
    drop = {_item_of(tuple(error["loc"])) for error in errors}
    if None in drop:
        return  # an error outside any item (the top level): nothing more can be checked
    pruned = _prune(config, raw, (), (), {loc for loc in drop if loc is not None})
    try:
        config.spec = ConfigFile.model_validate(pruned)
    except ValidationError:
        config.spec = None


def _item_of(loc: Loc) -> Loc | None:
    """The innermost item (``orgs[0]``, ``orgs[0].queues[2]``, ...) holding ``loc``."""
    for end in range(len(loc), 0, -1):
        prefix = loc[:end]
        if (
            len(prefix) % 2 == 0
            and all(isinstance(part, int) for part in prefix[1::2])
            and tuple(prefix[0::2]) in ITEM_LISTS
        ):
            return prefix
    return None


def _prune(config: LoadedConfig, node: Any, original: Loc, new: Loc, drop: set[Loc]) -> Any:
    """A copy of ``node`` without the items in ``drop``, recording which original index each kept item had."""
    if isinstance(node, dict):
        return {key: _prune(config, value, (*original, key), (*new, key), drop) for key, value in node.items()}
    names = tuple(part for part in original if isinstance(part, str))
    if not isinstance(node, list) or names not in ITEM_LISTS:
        return copy.deepcopy(node)
    kept: list[int] = []
    items = []
    for index, item in enumerate(node):
        if (*original, index) in drop:
            _remember_unresolved(config, new, item)
            continue
        items.append(_prune(config, item, (*original, index), (*new, len(kept)), drop))
        kept.append(index)
    config._kept[new] = kept
    return items


def _remember_unresolved(config: LoadedConfig, new_list_loc: Loc, item: Any) -> None:
    kind = _LIST_KINDS.get(str(new_list_loc[-1])) if len(new_list_loc) == 3 else None
    if kind is None or not isinstance(item, dict):
        return  # a whole org (nothing refers across orgs) or something nothing refers to
    org_index = new_list_loc[1]
    assert isinstance(org_index, int)
    names = config.unresolved.setdefault(org_index, {}).setdefault(kind, set())
    names.update(value for key in ("api_name", "username", "user_id") if isinstance(value := item.get(key), str))


def _reason(error: ErrorDetails, loc: Loc) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "missing":
        return "required"
    message = message.removeprefix("Value error, ")
    got = _TYPE_NAMES.get(type(error["input"]), type(error["input"]).__name__)
    if kind == "model_type":
        return f"expected a mapping{' with `orgs`' if not loc else ''}, got {got}"
    if kind.endswith("_type"):
        message = f"{message[0].lower()}{message[1:]}, got {got}"
        if _PHONE_KEYS.intersection(str(part) for part in loc) and isinstance(error["input"], int):
            message += ' (quote phone numbers, e.g. "+14155550100", so YAML keeps them as written)'
    return message


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys the model at ``loc`` takes, for an "unknown key" message."""
    model: type[BaseModel] = ConfigFile
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        nested = _model_in(info.annotation) if info is not None else None
        if nested is None:
            return []
        model = nested
    names = [name for name in model.model_fields if name != "remove"]
    return [*names, "remove"] if issubclass(model, Removable) else names


def _model_in(annotation: Any) -> type[Spec] | None:
    if isinstance(annotation, type) and issubclass(annotation, Spec):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _certificate_entries(spec: ConfigFile) -> Iterator[tuple[Loc, str]]:
    for o, org in enumerate(spec.orgs):
        for c, call_center in enumerate(org.call_centers):
            for k, source in enumerate(call_center.certificates or ()):
                yield ("orgs", o, "call_centers", c, "certificates", k), source


def _load_certificates(config: LoadedConfig) -> None:
    assert config.spec is not None
    for loc, source in _certificate_entries(config.spec):
        inline = "-----BEGIN" in source
        label = "inline PEM" if inline else source
        if inline:
            pem = source
        else:
            file = Path(source).expanduser()
            resolved = file if file.is_absolute() else config.path.parent / file
            try:
                pem = resolved.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                config.problem(loc, f"cannot read {source} (resolved to {resolved}): {why}")
                continue
        if "PRIVATE KEY-----" in pem and "-----BEGIN CERTIFICATE" not in pem and "PUBLIC KEY-----" not in pem:
            config.problem(
                loc,
                f"{label} is a private key: give the certificate or public key"
                " (the private key stays with the telephony system)",
            )
            continue
        try:
            parsed = parse_pem(pem)
        except CertificateError as exc:
            config.problem(loc, f"{label}: {exc}")
            continue
        if parsed.key_bits < MIN_KEY_BITS:
            config.problem(
                loc, f"{label}: the RSA key has {parsed.key_bits} bits; at least {MIN_KEY_BITS} are required"
            )
            continue
        config.certificates[loc] = parsed
