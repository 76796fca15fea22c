"""The handover report: one self-contained HTML page a consultant leaves with the person.

Inline CSS only, no scripts, no pictures or links it needs from elsewhere, laid out to
print on paper. Every value comes from the profile's own files, the installed-models list
and Hearth's folders, and every value is escaped (a recipe's name is text, never markup).
The page has no "made at" time of its own, so writing it again for an unchanged profile
gives the same bytes.
"""

from __future__ import annotations

import json
import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

from wizard.errors import HearthFileError
from wizard.paths import hearth_paths
from wizard.profiles import Profile
from wizard.recipes.plan import PROFILE_FILE, Permission

REPORT_FILE = "handover-report.html"

_CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:46em;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #bbb;margin-top:1.6em}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.25em .5em;
border-bottom:1px solid #e4e4e4}th{width:32%;font-weight:600}code{font-family:Consolas,monospace;
font-size:.92em;word-break:break-all}.loud{color:#a00;font-weight:600}.muted{color:#666}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{page-break-after:avoid}
table,li{page-break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _rows(pairs: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f"<table>{body}</table>"


def _size(count: int | None) -> str:
    if not count:
        return "unknown"
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:,.0f} MB"


def _model_record(profile: Profile):
    from wizard.models import ModelRegistry

    try:
        registry = ModelRegistry()
        records = registry.list()
    except Exception:  # noqa: BLE001 - a damaged registry must not stop the report
        return None, None
    wanted = profile.setup.get("model_id")
    for record in records:
        where = record.file_in(registry.models_dir)
        if record.id == wanted or (profile.model_path and where == profile.model_path):
            return record, where
    return None, None


def _hardware(profile: Profile) -> str:
    facts = profile.setup.get("hardware")
    if not isinstance(facts, dict):
        return "<p class=\"muted\">Not recorded when this assistant was set up.</p>"
    cores = f"{facts.get('physical_cores') or '?'} cores ({facts.get('logical_cores') or '?'} threads)"
    gpus = facts.get("gpus") or []
    gpu_text = "; ".join(f"{g.get('name')} ({_size(g.get('total_bytes'))})" for g in gpus if isinstance(g, dict))
    return _rows([("System", _e(facts.get("os"))), ("Processor", _e(f"{facts.get('cpu')}, {cores}")),
                  ("Memory", _e(_size(facts.get("memory_total_bytes")))),
                  ("Graphics", _e(gpu_text or "none that AI models can use")),
                  ("Graphics used for the model", "yes" if facts.get("gpu_offload") else "no")])


def _model(profile: Profile) -> str:
    record, where = _model_record(profile)
    plan = profile.load_plan
    pairs: list[tuple[str, Any]] = [
        ("Model", _e(profile.model_name or "none chosen yet")),
        ("File", f"<code>{_e(profile.model_path or where)}</code>"),
        ("Why this model", _e(profile.setup.get("model_reason") or "chosen in Hearth's setup window")),
    ]
    if record is not None:
        pairs += [("Came from", _e(record.source.describe())), ("Licence", _e(record.licence)),
                  ("Size", _e(_size(record.size))), ("Checksum (sha256)", f"<code>{_e(record.sha256)}</code>")]
    if plan is not None:
        pairs.append(("How it is loaded", _e(f"{plan.n_ctx} tokens of conversation memory, {plan.n_threads} "
                                             f"threads, {plan.n_gpu_layers} layers on the graphics card, "
                                             f"{plan.kv_type} cache")))
    fit = record.fit if record is not None else {}
    if fit.get("tokens_per_second"):
        pairs += [("Measured speed", _e(f"{fit['tokens_per_second']:.1f} tokens a second (about "
                                        f"{fit['tokens_per_second'] * 0.75:.0f} words)")),
                  ("Measured memory", _e(_size(fit.get("peak_ram_bytes")) + " at its peak")),
                  ("Load time", _e(f"{fit.get('load_seconds') or 0:.1f} seconds")),
                  ("Check", _e(f"{fit.get('message', '')} (measured {fit.get('measured_at', '')})"))]
    else:
        pairs.append(("Measured speed and memory", "<span class=\"muted\">not measured</span>"))
    return _rows(pairs)


def _access(profile: Profile) -> str:
    permissions = sorted(Permission(kind, target) for kind, target in profile.permissions)
    loud = ' class="loud"'
    items = [f"<li{loud if p.loud else ''}>{_e(p.describe())}</li>" for p in permissions]
    if not items:
        items = ["<li>Nothing beyond chatting: no files, no tools.</li>"]
    out = f"<p>The assistant may:</p><ul>{''.join(items)}</ul>"
    refused = profile.setup.get("folders_refused") or []
    if refused:
        out += "<p>Folders the recipe asked for that were <b>not</b> granted:</p><ul>"
        out += "".join(f"<li><code>{_e(f)}</code></li>" for f in refused) + "</ul>"
    writes = [t for t in profile.recipe.tools if t.write_folders]
    if writes:
        confirm = all(t.confirm_each_write for t in writes)
        out += ("<p>Every file it writes needs the person's confirmation first.</p>" if confirm else
                "<p class=\"loud\">It may write some files WITHOUT asking first (see above).</p>")
    secrets = profile.recipe.secret_names
    if secrets:
        out += ("<p>Secrets it uses (kept only in this computer's keyring, never in a file): "
                + ", ".join(f"<code>{_e(s)}</code>" for s in secrets) + "</p>")
    return out


def _files(profile: Profile) -> str:
    from wizard.agent.database import database_path
    from wizard.models.registry import REGISTRY_FILE_NAME

    paths = hearth_paths()
    pairs = [("This assistant", profile.folder), ("Settings", paths.config), ("Your data", paths.data),
             ("Conversations and memory (SQLite)", database_path()),
             ("Installed models list", paths.data / REGISTRY_FILE_NAME), ("Model files", paths.models),
             ("Model in use", profile.model_path), ("Cache (safe to delete)", paths.cache),
             ("Log files", paths.logs)]
    return _rows([(k, f"<code>{_e(v)}</code>") for k, v in pairs])


def _privacy(profile: Profile) -> str:
    from wizard.settings import load_settings

    settings = load_settings().settings  # never raises: a damaged file gives the defaults
    record, _ = _model_record(profile)
    source = record.source.describe() if record is not None else "a file already on this computer"
    items = ["No telemetry: Hearth never sends usage data, conversations or files anywhere on its own."]
    if settings.engine == "remote":
        items.append(f"<span class=\"loud\">Conversations leave this computer</span>: Hearth's settings (Settings → "
                     f"Engine: <i>On another computer on my network</i>) send every message, the assistant's "
                     f"instructions, its memories and the document passages it finds to the AI server at "
                     f"<code>{_e(settings.remote_url)}</code>, and its replies come back over the network. The model "
                     "on this computer is not used while this is chosen; choose <i>On this computer</i> to keep "
                     "everything here.")
    else:
        items.append("Conversations, memory and documents stay on this computer, in the folders below: the "
                     "model runs here (Settings → Engine: <i>On this computer</i>).")
    items.append("The network is used only when someone asks Hearth to download a model or refresh its list of "
                 f"models. This model came from: {_e(source)}.")
    if settings.local_api:
        items.append(f"Local API for other apps: <b>on</b>: other apps on this computer (only this computer) may "
                     f"use the assistant at <code>{_e(settings.local_api_address)}</code> with a secret token, "
                     "shown in Settings → Local API and kept in this computer's keyring.")
    else:
        items.append("Local API for other apps: <b>off</b>.")
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _keyring_entries(profile: Profile) -> list[tuple[str, str, str]]:
    """(service, name, what it is) of every keyring entry Hearth may have made."""
    from wizard.secrets import HUB_TOKEN, SERVICE_PREFIX
    from wizard.settings_secrets import LOCAL_API_TOKEN, REMOTE_ENGINE_KEY

    entries = [(f"{SERVICE_PREFIX}/{profile.id}", name, "a secret this assistant uses")
               for name in profile.recipe.secret_names]
    entries += [(f"{SERVICE_PREFIX}/{LOCAL_API_TOKEN[0]}", LOCAL_API_TOKEN[1], "the local API's token"),
                (f"{SERVICE_PREFIX}/{HUB_TOKEN[0]}", HUB_TOKEN[1], "a Hugging Face access token"),
                (f"{SERVICE_PREFIX}/{REMOTE_ENGINE_KEY[0]}", REMOTE_ENGINE_KEY[1],
                 "the key of another computer's AI server")]
    return entries


def _howto(profile: Profile) -> str:
    paths = hearth_paths()
    provisioned = (profile.setup.get("provisioned_from") or {}).get("answers")
    update = (f"run <code>hearth provision {_e(provisioned)}</code> again" if provisioned
              else "open Hearth and choose <i>Set up again…</i>")
    keyring = "".join(f"<tr><td><code>{_e(service)}</code></td><td><code>{_e(name)}</code></td><td>{_e(what)}</td></tr>"
                      for service, name, what in _keyring_entries(profile))
    return ("<ul>"
            f"<li><b>Update</b>: install the new version of Hearth over the old one; your data stays. To "
            f"change this assistant's setup, {update}.</li>"
            f"<li><b>Back up</b>: copy the folders <code>{_e(paths.data)}</code> and <code>{_e(paths.config)}"
            f"</code> (and <code>{_e(paths.models)}</code> to keep the models) while Hearth is closed.</li>"
            "<li><b>Export chats</b>: in Hearth, <i>Settings → Your data → Export everything…</i> writes every "
            "conversation as Markdown and JSON.</li>"
            "<li><b>Uninstall completely</b>: remove the Hearth program, delete each folder listed under "
            "<i>Where every file lives</i>, and delete Hearth's entries from this computer's keyring (on Linux "
            "<i>Passwords and Keys</i>, on a Mac <i>Keychain Access</i>, on Windows <i>Credential Manager</i>). "
            "Each is listed under its service and name; only those that were used exist, and other assistants "
            f"set up here have their own <code>{_e('Hearth/<assistant id>')}</code> entries:"
            f"<table><tr><th>Service</th><th>Name</th><th>What it is</th></tr>{keyring}</table>"
            "Then nothing of Hearth is left on this computer.</li></ul>")


def render_report(profile: Profile) -> str:
    """The report as HTML text (every value escaped)."""
    applied = ""
    try:
        applied = json.loads((profile.folder / PROFILE_FILE).read_text(encoding="utf-8")).get("applied_at", "")
    except (OSError, ValueError, AttributeError):
        pass
    who = f" for {_e(profile.person_name)}" if profile.person_name else ""
    sections = [("The computer", _hardware(profile)), ("The model", _model(profile)),
                ("What the assistant may access", _access(profile)), ("Privacy", _privacy(profile)),
                ("Where every file lives", _files(profile)),
                ("Update, back up, export, uninstall", _howto(profile))]
    body = "".join(f"<h2>{_e(title)}</h2>{html}" for title, html in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Hearth handover report: {_e(profile.name)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{_e(profile.name)}</h1><p>A private assistant set up by Hearth{who}"
            f"{(' on ' + _e(applied)) if applied else ''}. {_e(profile.recipe.description)}</p>"
            f"{body}</body></html>\n")


def write_report(profile: Profile, *, out: Path | None = None) -> Path:
    """Write the report (default: ``handover-report.html`` in the profile folder); return its path.

    An identical file is left untouched.

    Raises:
        HearthFileError: the file could not be written.
    """
    target = Path(out) if out is not None else profile.folder / REPORT_FILE
    text = render_report(profile)
    try:
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            return target
    except (OSError, ValueError):
        pass
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise HearthFileError("Hearth could not write the handover report.",
                              hint="Check that the folder exists and the disk is not full.",
                              details=f"{target}: {exc}") from exc
    return target
