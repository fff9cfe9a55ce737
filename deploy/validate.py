"""Validates firedrill's Kubernetes manifests and Helm chart. Run by deploy/validate.sh.

Three stages, each able to fail on its own:

  schema  every object against the Kubernetes JSON schemas bundled by kubernetes-validate,
          strict (unknown fields are errors), for each version in KUBE_VERSIONS; a kind with
          no schema is an error too
  policy  what these manifests promise: non-root, read-only root filesystem, no privilege
          escalation, capabilities dropped, RuntimeDefault seccomp, resources, sized
          emptyDirs, a writable volume for HOME/TMPDIR, CronJob concurrency and deadlines,
          IRSA-annotated service accounts, Secrets with placeholders only, and for
          `firedrill schedule`: --listen off loopback with liveness and readiness probes on
          its /healthz
  spec    every drill spec a workload runs loads with the real firedrill binary
          (`firedrill check --offline`), in an environment holding exactly the variables the
          container sets, and its folders sit on the container's writable volumes; a
          pgBackRest spec's pgbackrest.conf is a file of a mounted Secret (or, when firedrill
          manages it, `pg-path` given, on a writable volume), and its drill does not connect
          to the source as a superuser

Usage:
  validate.py manifests FILE...                 all stages on a set of files
  validate.py chart CHART [VALUES.yaml]         render with Helm's engine, `helm lint`, all stages
  validate.py expect-fail STAGE FILE...         passes only when STAGE rejects the files with
                                                the message each file names in `# expect: ...`;
                                                STAGE `chart`: FILE is a values file for the chart
Environment: FIREDRILL_BIN, the firedrill binary for the spec stage.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml
import kubernetes_validate
from kubernetes_validate import utils as kv

KUBE_VERSIONS = ["1.31.0", "1.37.0"]
# The image's HOME, TMPDIR and working directory (deploy/container/Dockerfile).
IMAGE_HOME = "/var/lib/firedrill"
SECRET_PLACEHOLDER = "postgres://validate:placeholder@127.0.0.1:5432/validate"
# What a Secret-filled variable named by a spec's `[[notify.webhook]] url-env` stands for.
WEBHOOK_PLACEHOLDER = "https://hooks.example.invalid/placeholder"
SPEC_COMMANDS = {"backup", "drill", "check", "list", "cleanup", "prune"}
# pgBackRest's default configuration file, where the chart mounts a spec's Secret.
PGBACKREST_CONF = "/etc/pgbackrest/pgbackrest.conf"
# Roles a pgBackRest drill pod must not connect to the source as: it gets the repositories'
# secrets and a pg_monitor role, never the source's superuser.
SUPERUSERS = {"postgres", "rdsadmin", "azure_superuser", "cloudsqlsuperuser"}
DIR_COMMANDS = {"schedule", "run-due"}


class Docs:
    """Kubernetes objects with the file (or template) each came from."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []

    def add_text(self, origin: str, text: str) -> None:
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                raise SystemExit(f"ERROR {origin}: a document that is not a Kubernetes object")
            self.items.append((origin, doc))

    def of_kind(self, *kinds: str) -> list[tuple[str, dict]]:
        return [(o, d) for o, d in self.items if d["kind"] in kinds]


def name_of(doc: dict) -> str:
    return f"{doc['kind']}/{doc.get('metadata', {}).get('name', '?')}"


# ---------------------------------------------------------------- schema


def stage_schema(docs: Docs) -> list[str]:
    errors = []
    for origin, doc in docs.items:
        for version in KUBE_VERSIONS:
            try:
                kv.validate(doc, version, strict=True)
            except kv.SchemaNotFoundError:
                errors.append(f"{origin}: {name_of(doc)}: no schema for {doc['apiVersion']} {doc['kind']} in Kubernetes {version}")
            except kv.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                errors.append(f"{origin}: {name_of(doc)} is invalid for Kubernetes {version}: {path}: {e.message}")
    return errors


# ---------------------------------------------------------------- policy


def pod_specs(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        return [spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})]
    if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return [spec.get("template", {}).get("spec", {})]
    if doc["kind"] == "Pod":
        return [spec]
    return []


WORKLOADS = ("CronJob", "Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")
PASSWORD_IN_URL = re.compile(r"://[^/@:\s]+:[^/@\s]+@")
# pgBackRest's secure options too: PGBACKREST_REPO<N>_CIPHER_PASS, _S3_KEY, _S3_KEY_SECRET
# (not _S3_KEY_TYPE, which is a setting).
SECRETISH_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|IDENTITY|WEBHOOK|CIPHER_PASS|_S3_KEY$", re.I)
PLACEHOLDER = re.compile(r"CHANGE-?ME|PLACEHOLDER", re.I)


def writable_mounts(pod: dict, container: dict) -> set[str]:
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    out = set()
    for m in container.get("volumeMounts", []):
        v = volumes.get(m["name"], {})
        if m.get("readOnly"):
            continue
        if "emptyDir" in v or "persistentVolumeClaim" in v or "ephemeral" in v:
            out.add(m["mountPath"])
    return out


def firedrill_words(container: dict) -> list[str]:
    """firedrill's arguments without the global options (--log-format VALUE)."""
    args = container.get("command", [])[1:] + container.get("args", [])
    words, i = [], 0
    while i < len(args):
        if args[i] == "--log-format":
            i += 2
            continue
        words.append(str(args[i]))
        i += 1
    return words


def option(words: list[str], name: str) -> str | None:
    for i, w in enumerate(words):
        if w == name and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return None


def schedule_policy(cw: str, container: dict) -> list[str]:
    """`firedrill schedule`: /healthz reachable, and probed."""
    errors = []
    listen = option(firedrill_words(container), "--listen") or "127.0.0.1:9187"
    host, _, port = listen.rpartition(":")
    if listen == "off" or host in ("127.0.0.1", "localhost", "[::1]") or not port.isdigit():
        errors.append(f"{cw}: schedule --listen `{listen}` is out of reach of the kubelet and Prometheus: "
                      "use --listen 0.0.0.0:PORT")
        return errors
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    if int(port) not in ports.values():
        errors.append(f"{cw}: no containerPort {port} for schedule --listen {listen}")
    for probe in ("livenessProbe", "readinessProbe"):
        get = (container.get(probe) or {}).get("httpGet")
        if not get or get.get("path") != "/healthz":
            errors.append(f"{cw}: {probe} must be an httpGet of /healthz (the schedule loop's health)")
            continue
        target = ports.get(get.get("port")) if isinstance(get.get("port"), str) else get.get("port")
        if target != int(port):
            errors.append(f"{cw}: {probe} probes port {get.get('port')}, not the --listen port {port}")
    return errors


def stage_policy(docs: Docs) -> list[str]:
    errors = []
    accounts = {d["metadata"]["name"]: d for _, d in docs.of_kind("ServiceAccount")}
    for origin, doc in docs.of_kind("ServiceAccount"):
        ann = doc.get("metadata", {}).get("annotations") or {}
        if not str(ann.get("eks.amazonaws.com/role-arn", "")).startswith("arn:aws"):
            errors.append(f"{origin}: {name_of(doc)}: no IRSA annotation eks.amazonaws.com/role-arn")
    for origin, doc in docs.of_kind("Secret"):
        for key, value in {**(doc.get("stringData") or {}), **(doc.get("data") or {})}.items():
            if not PLACEHOLDER.search(str(value)):
                errors.append(f"{origin}: {name_of(doc)}: `{key}` is not a placeholder (CHANGE-ME, PLACEHOLDER): keep real secrets out of manifests")
    for origin, doc in docs.of_kind(*WORKLOADS):
        where = f"{origin}: {name_of(doc)}"
        if doc["kind"] == "CronJob":
            s = doc["spec"]
            job = s.get("jobTemplate", {}).get("spec", {})
            if s.get("concurrencyPolicy") != "Forbid":
                errors.append(f"{where}: concurrencyPolicy must be Forbid")
            if not isinstance(s.get("startingDeadlineSeconds"), int):
                errors.append(f"{where}: startingDeadlineSeconds is missing")
            if not isinstance(job.get("activeDeadlineSeconds"), int):
                errors.append(f"{where}: jobTemplate.spec.activeDeadlineSeconds is missing")
            if not isinstance(job.get("backoffLimit"), int):
                errors.append(f"{where}: jobTemplate.spec.backoffLimit is missing")
        for pod in pod_specs(doc):
            psc = pod.get("securityContext") or {}
            sa = pod.get("serviceAccountName")
            if sa and sa not in accounts:
                errors.append(f"{where}: service account `{sa}` is not among the objects")
            if (pod.get("terminationGracePeriodSeconds") or 30) < 60:
                errors.append(f"{where}: terminationGracePeriodSeconds must leave firedrill 60 s or more to clean up")
            for v in pod.get("volumes", []):
                if "emptyDir" in v and not (v["emptyDir"] or {}).get("sizeLimit"):
                    errors.append(f"{where}: emptyDir `{v['name']}` has no sizeLimit")
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                cw = f"{where}: container {c['name']}"
                csc = c.get("securityContext") or {}

                def get(key: str):
                    return csc[key] if key in csc else psc.get(key)

                if get("runAsNonRoot") is not True:
                    errors.append(f"{cw}: runAsNonRoot must be true")
                uid = get("runAsUser")
                if not isinstance(uid, int) or uid == 0:
                    errors.append(f"{cw}: runAsUser must be a non-zero UID (the image's user)")
                if csc.get("readOnlyRootFilesystem") is not True:
                    errors.append(f"{cw}: readOnlyRootFilesystem must be true")
                if csc.get("allowPrivilegeEscalation") is not False:
                    errors.append(f"{cw}: allowPrivilegeEscalation must be false")
                if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                    errors.append(f"{cw}: capabilities must drop ALL")
                if ((get("seccompProfile") or {}).get("type")) != "RuntimeDefault":
                    errors.append(f"{cw}: seccompProfile must be RuntimeDefault")
                res = c.get("resources") or {}
                for kind in ("requests", "limits"):
                    for r in ("cpu", "memory"):
                        if r not in (res.get(kind) or {}):
                            errors.append(f"{cw}: resources.{kind}.{r} is missing")
                if IMAGE_HOME not in writable_mounts(pod, c):
                    errors.append(f"{cw}: no writable volume at {IMAGE_HOME} (HOME, TMPDIR, work-dir) with a read-only root filesystem")
                if firedrill_words(c)[:1] == ["schedule"]:
                    errors += schedule_policy(cw, c)
                for e in c.get("env", []):
                    if "value" in e and (PASSWORD_IN_URL.search(str(e["value"])) or SECRETISH_NAME.search(e["name"])):
                        errors.append(f"{cw}: env {e['name']} holds a literal secret: use valueFrom.secretKeyRef")
    return errors


# ---------------------------------------------------------------- spec


def mounted_file(pod: dict, container: dict, path: str, configmaps: dict) -> tuple[str, str] | None:
    """(configmap key, text) of the ConfigMap file at `path` in the container, if any."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    p = PurePosixPath(path)
    for m in container.get("volumeMounts", []):
        v = volumes.get(m["name"], {})
        if "configMap" not in v:
            continue
        mount = PurePosixPath(m["mountPath"])
        if p.parent != mount:
            continue
        cm = configmaps.get(v["configMap"]["name"])
        if cm is None:
            return None
        items = v["configMap"].get("items")
        mapping = {i["path"]: i["key"] for i in items} if items else {k: k for k in cm}
        key = mapping.get(p.name)
        if key is None or key not in cm:
            return None
        return key, cm[key]
    return None


def mounted_dir(pod: dict, container: dict, path: str, configmaps: dict) -> dict[str, str] | None:
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in container.get("volumeMounts", []):
        v = volumes.get(m["name"], {})
        if "configMap" in v and m["mountPath"].rstrip("/") == path.rstrip("/"):
            cm = configmaps.get(v["configMap"]["name"])
            if cm is None:
                return None
            items = v["configMap"].get("items")
            mapping = {i["path"]: i["key"] for i in items} if items else {k: k for k in cm}
            return {p: cm[k] for p, k in mapping.items() if k in cm and p.endswith(".toml")}
    return None


def in_secret(pod: dict, container: dict, path: str) -> bool:
    """Whether `path` is a file of a Secret volume mounted in the container."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    p = PurePosixPath(path)
    for m in container.get("volumeMounts", []):
        v = volumes.get(m["name"], {})
        if "secret" not in v or p.parent != PurePosixPath(m["mountPath"]):
            continue
        items = v["secret"].get("items")
        if not items or p.name in {i["path"] for i in items}:
            return True
    return False


def container_env(pod: dict, container: dict, configmaps: dict) -> dict[str, str]:
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif "configMapKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = str(configmaps.get(ref["name"], {}).get(ref["key"], SECRET_PLACEHOLDER))
        else:
            env[e["name"]] = SECRET_PLACEHOLDER
    return env


def under(path: str, roots: set[str]) -> bool:
    p = PurePosixPath(path)
    return any(p == PurePosixPath(r) or PurePosixPath(r) in p.parents for r in roots)


def check_spec(where: str, command: str, key: str, text: str, env: dict, pod: dict, container: dict, firedrill: str) -> list[str]:
    errors = []
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raw = {}  # firedrill says what is wrong with it below
    # A webhook URL comes from a Secret: stand in an https URL for the generic placeholder,
    # but only for variables the container sets (a missing one must still fail).
    env = dict(env)
    for hook in (raw.get("notify") or {}).get("webhook") or []:
        var = hook.get("url-env") if isinstance(hook, dict) else None
        if var and env.get(var) == SECRET_PLACEHOLDER:
            env[var] = WEBHOOK_PLACEHOLDER
    source = raw.get("source") or {}
    pgbackrest = source.get("kind") == "pgbackrest"
    # Managed mode (`pg-path` given): firedrill writes source.config itself, so the file is no
    # Secret's and its folder must be writable in the pod.
    managed = pgbackrest and "pg-path" in source
    errors += pgbackrest_files(where, key, source, pod, container) if pgbackrest and not managed else []
    with tempfile.TemporaryDirectory() as tmp:
        # The file keeps its name: a spec's name defaults to its file stem.
        path = Path(tmp) / key
        path.write_text(text)
        run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        extra = []
        if pgbackrest and source.get("config") and in_secret(pod, container, source["config"]):
            # The loader wants source.config to be a file: the pod's mounted Secret stands
            # in as an empty one here (its content is pgBackRest's to read, not firedrill's).
            standin = Path(tmp) / "pgbackrest.conf"
            standin.write_text("")
            extra = ["--set", f"source.config={standin}"]
        out = subprocess.run(
            [firedrill, "check", "--offline", *extra, str(path)],
            env=run_env, capture_output=True, text=True, timeout=60,
        )
        if out.returncode != 0:
            detail = (out.stderr + out.stdout).strip().replace(str(path), key)
            errors.append(f"{where}: spec {key} does not load with the container's environment "
                          f"({', '.join(sorted(env)) or 'no variables'}): {detail}")
            return errors
    # Folders the spec names must be on the container's writable volumes (the root
    # filesystem is read-only); the identity must come from a mounted Secret.
    drill = raw.get("drill", {})
    writable = writable_mounts(pod, container)
    if managed:
        conf = str(source.get("config", ""))
        if "$" not in conf and not under(conf, writable):
            errors.append(f"{where}: spec {key}: source.config `{conf}` (the pgBackRest configuration firedrill writes) "
                          f"is not on a writable volume ({', '.join(sorted(writable))})")
    if command in ("drill", "schedule", "run-due", "cleanup"):
        work_dir = drill.get("work-dir", f"{IMAGE_HOME}/firedrill")
        if "$" not in work_dir and not under(work_dir, writable):
            errors.append(f"{where}: spec {key}: drill.work-dir `{work_dir}` is not on a writable volume ({', '.join(sorted(writable))})")
        reports = drill.get("reports", "./reports")
        if not reports.startswith("/"):
            reports = f"{IMAGE_HOME}/{reports.removeprefix('./')}"
        if "$" not in reports and not under(reports, writable):
            errors.append(f"{where}: spec {key}: drill.reports `{reports}` is not on a writable volume")
    if command == "drill" and pgbackrest:
        errors += drill_role(where, key, str(source.get("url", "")), env)
    # pgBackRest repositories carry their own encryption: no age identity.
    if command in ("drill", "schedule", "run-due") and source.get("kind", "postgres") not in ("rds", "pgbackrest"):
        ident = drill.get("identity-file")
        secret_mounts = {m["mountPath"] for m in container.get("volumeMounts", [])
                         if "secret" in {v["name"]: v for v in pod.get("volumes", [])}.get(m["name"], {})}
        if ident is None and "FIREDRILL_IDENTITY" not in env:
            errors.append(f"{where}: spec {key}: no drill.identity-file and no FIREDRILL_IDENTITY: a drill cannot decrypt")
        elif ident is not None and "$" not in ident and not under(ident, secret_mounts):
            errors.append(f"{where}: spec {key}: drill.identity-file `{ident}` is not in a mounted Secret")
    return errors


def pgbackrest_files(where: str, key: str, source: dict, pod: dict, container: dict) -> list[str]:
    """A pgBackRest spec's pgbackrest.conf must be a file of a mounted Secret."""
    conf = source.get("config") or PGBACKREST_CONF
    if "$" in conf or in_secret(pod, container, conf):
        return []
    return [f"{where}: spec {key}: source.config `{conf}` (pgbackrest.conf) is not in a mounted Secret: "
            f"give the spec's pgbackrest.configSecret in the chart values (mounted at {PGBACKREST_CONF})"]


def drill_role(where: str, key: str, url: str, env: dict) -> list[str]:
    """A pgBackRest drill connects to the source with a pg_monitor role, never a superuser."""
    url = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), url)
    if url == SECRET_PLACEHOLDER:
        return []  # from a Secret: its role is the Secret's business (deploy/README.md)
    user = urlsplit(url).username if "://" in url else None
    if user in SUPERUSERS:
        return [f"{where}: spec {key}: the drill connects to the source as `{user}`, a superuser: "
                "give the drill pod the URL of a role with pg_monitor (deploy/README.md)"]
    return []


def stage_spec(docs: Docs, firedrill: str | None) -> list[str]:
    if not firedrill or not os.access(firedrill, os.X_OK):
        return [f"the spec stage needs the firedrill binary: FIREDRILL_BIN=`{firedrill}` is not executable"]
    errors = []
    configmaps = {d["metadata"]["name"]: (d.get("data") or {}) for _, d in docs.of_kind("ConfigMap")}
    checked = 0
    for origin, doc in docs.of_kind(*WORKLOADS):
        for pod in pod_specs(doc):
            for c in pod.get("containers", []):
                words = firedrill_words(c)
                if not words:
                    continue
                where = f"{origin}: {name_of(doc)}"
                command = words[0]
                env = container_env(pod, c, configmaps)
                if command in SPEC_COMMANDS:
                    if len(words) < 2:
                        errors.append(f"{where}: `{command}` without a spec")
                        continue
                    found = mounted_file(pod, c, words[1], configmaps)
                    if found is None:
                        errors.append(f"{where}: the spec {words[1]} is not a file of a mounted ConfigMap among the objects")
                        continue
                    errors += check_spec(where, command, found[0], found[1], env, pod, c, firedrill)
                    checked += 1
                elif command in DIR_COMMANDS:
                    specs = mounted_dir(pod, c, words[1] if len(words) > 1 else "", configmaps)
                    if not specs:
                        errors.append(f"{where}: `{command}` folder {words[1:]} holds no spec of a mounted ConfigMap")
                        continue
                    for key, text in sorted(specs.items()):
                        errors += check_spec(where, command, key, text, env, pod, c, firedrill)
                        checked += 1
    if not errors and checked == 0 and docs.of_kind(*WORKLOADS):
        errors.append("no workload runs a drill spec: nothing was checked")
    return errors


# ---------------------------------------------------------------- driver


STAGES = {
    "schema": lambda docs, fd: stage_schema(docs),
    "policy": lambda docs, fd: stage_policy(docs),
    "spec": stage_spec,
}


def run_stages(label: str, docs: Docs, stages: list[str]) -> bool:
    ok = True
    fd = os.environ.get("FIREDRILL_BIN")
    for stage in stages:
        errors = STAGES[stage](docs, fd)
        if errors:
            ok = False
            for e in errors:
                print(f"  FAIL {stage}: {e}")
        else:
            print(f"  ok   {stage}: {label} ({len(docs.items)} objects)")
    return ok


def load_files(files: list[str]) -> Docs:
    docs = Docs()
    for f in files:
        docs.add_text(f, Path(f).read_text())
    return docs


def render_chart(chart: str, values_file: str | None) -> tuple[Docs, list[str]]:
    """The chart rendered with Helm's engine, and the findings of `helm lint --strict`."""
    import helm_python as helm

    values = yaml.safe_load(Path(values_file).read_text()) if values_file else {}
    lint = helm.lint(chart, values, strict=True, namespace="firedrill")
    findings = [f"{m.get('path')}: {m.get('error')}" for m in lint.get("messages", []) if m.get("severity", 0) >= 2]
    findings += list(lint.get("errors", []))
    docs = Docs()
    with helm.Chart.load(chart) as c:
        rendered = c.render(values, name="firedrill", namespace="firedrill", is_install=True)
    for template, text in sorted(rendered.items()):
        if template.endswith(".txt") or not text.strip():
            continue
        docs.add_text(template, text)
    return docs, findings


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    mode = argv[1]
    if mode == "manifests":
        files = argv[2:]
        print(f"manifests: {' '.join(files)}")
        return 0 if run_stages("manifests", load_files(files), list(STAGES)) else 1
    if mode == "chart":
        chart, values_file = argv[2], (argv[3] if len(argv) > 3 else None)
        print(f"chart {chart} with {values_file or 'default values'}")
        docs, findings = render_chart(chart, values_file)
        for f in findings:
            print(f"  FAIL helm lint: {f}")
        if not findings:
            print(f"  ok   helm lint --strict: {chart} ({values_file or 'default values'})")
        return 0 if run_stages(f"rendered {chart}", docs, list(STAGES)) and not findings else 1
    if mode == "expect-fail":
        stage, files = argv[2], argv[3:]
        ok = True
        for f in files:
            expect = re.findall(r"^# expect: (.+)$", Path(f).read_text(), re.M)
            if not expect:
                print(f"  FAIL {f}: names no `# expect: MESSAGE`")
                ok = False
                continue
            if stage == "chart":
                # A values file for the chart: rendering or any stage must reject it.
                chart = str(Path(__file__).parent / "helm" / "firedrill")
                try:
                    docs, errors = render_chart(chart, f)
                    errors += [e for st in STAGES for e in STAGES[st](docs, os.environ.get("FIREDRILL_BIN"))]
                except Exception as e:  # the chart's own `fail` is a render error
                    errors = [str(e)]
            else:
                errors = STAGES[stage](load_files([f]), os.environ.get("FIREDRILL_BIN"))
            missing = [e for e in expect if not any(e in err for err in errors)]
            if not errors:
                print(f"  FAIL {f}: the {stage} stage ACCEPTED a manifest it must reject")
                ok = False
            elif missing:
                print(f"  FAIL {f}: rejected, but not for the expected reason {missing}; got: {errors}")
                ok = False
            else:
                print(f"  ok   {f}: rejected by {stage} as expected ({expect[0]})")
        return 0 if ok else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
