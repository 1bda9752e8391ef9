#!/usr/bin/env python3
"""Helpers of deploy/check-shipped.sh: lay out the files a deployment ships, as the running
container sees them, under a scratch directory. Needs PyYAML (the check's tool environment has it).

  shipped.py docker-root ROOT           the image's files under ROOT (from the Dockerfile's COPY
                                        lines of the last stage); prints the config path of CMD
  shipped.py k8s-render REPO OUT        render deploy/kubernetes without kubectl (the subset of
                                        kustomize that kustomization.yaml uses) plus the ConfigMaps
                                        configmaps.sh publishes, as one YAML stream
  shipped.py k8s-same KUBECTL PYTHON     compare the two renderings (kustomize's content-hash
                                        suffixes and null creationTimestamps aside)
  shipped.py k8s-root MANIFESTS ROOT    the frontdesk container's mounts under ROOT (ConfigMap
                                        data as files, emptyDirs and Secret volumes as
                                        directories); prints the config path of its args
  shipped.py enable-tls CONFIG          uncomment the shipped `# tls:` block of server (in place;
                                        line numbers are kept); prints its cert and key paths
  shipped.py relocate CONFIG ROOT       rewrite every absolute path value in CONFIG to lie under
                                        ROOT (in place; line numbers are kept)
  shipped.py ports CONFIG PORT ADMIN    set the port of server.listen and admin.listen (in place)
  shipped.py secrets FILE|DIR...        the environment variable names the files read secrets
                                        from (`env:`, `*_env:`), one per line
  shipped.py secret-keys MANIFEST NAME  the keys of the Secret NAME in MANIFEST (the variables an
                                        `envFrom: secretRef` gives the container), one per line
"""

import json
import re
import shutil
import sys
from pathlib import Path


def die(message):
    sys.exit(f"shipped.py: {message}")


def under(root, absolute):
    """`absolute` (a path inside the container) as a path under `root`."""
    return Path(root) / str(absolute).lstrip("/")


def config_arg(args, what):
    """The value of `-c`/`--config` in a frontdesk command line."""
    for i, arg in enumerate(args):
        if arg in ("-c", "--config") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    die(f"{what}: no -c/--config in {args}")


# ---- Docker -----------------------------------------------------------------------------------


def docker_root(root):
    repo = Path(__file__).resolve().parent.parent
    dockerfile = repo / "deploy/docker/Dockerfile"
    # Join continuation lines, drop comments; keep only the last stage (the runtime image).
    lines, pending = [], ""
    for raw in dockerfile.read_text(encoding="utf-8").splitlines():
        if not pending and raw.lstrip().startswith("#"):
            continue
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    stages = [i for i, line in enumerate(lines) if re.match(r"(?i)^FROM\s", line)]
    if not stages:
        die(f"{dockerfile}: no FROM")
    runtime = lines[stages[-1]:]
    cmd = entrypoint = None
    copied = 0
    for line in runtime:
        words = line.split()
        if not words:
            continue
        op = words[0].upper()
        if op in ("COPY", "ADD"):
            args = [w for w in words[1:] if not w.startswith("--")]
            if any(w.startswith("--from") for w in words[1:]):
                continue  # build output (the binary): the check runs its own build
            if len(args) != 2:
                die(f"{dockerfile}: cannot follow `{line}` (one source and one destination only)")
            source, dest = repo / args[0], under(root, args[1])
            if source.is_dir():
                # COPY dir/ dest/ copies the directory's contents into dest.
                shutil.copytree(source, dest, dirs_exist_ok=True)
            elif args[1].endswith("/"):
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / source.name)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)
            copied += 1
        elif op in ("CMD", "ENTRYPOINT"):
            try:
                value = json.loads(line.split(None, 1)[1])
            except (IndexError, ValueError):
                die(f"{dockerfile}: `{line}` is not in exec (JSON) form")
            if op == "CMD":
                cmd = value
            else:
                entrypoint = value
        elif op == "WORKDIR":
            under(root, words[1]).mkdir(parents=True, exist_ok=True)
    if not copied:
        die(f"{dockerfile}: the runtime stage copies no files")
    print(config_arg((entrypoint or []) + (cmd or []), "Dockerfile CMD"))


# ---- Kubernetes -------------------------------------------------------------------------------


def load_all(path):
    import yaml

    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def configmap(name, files, labels=None):
    data = {}
    for key, path in files:
        data[key] = Path(path).read_text(encoding="utf-8")
    meta = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def k8s_render(repo, out):
    """What `kubectl kustomize deploy/kubernetes` and configmaps.sh produce, for a machine without
    kubectl. Only the kustomize features kustomization.yaml uses are followed; any other key is an
    error, so this renderer cannot silently drift from the real one. Generated ConfigMaps keep
    their plain name (kustomize appends a content hash and rewrites the references to match)."""
    import yaml

    base = Path(repo) / "deploy/kubernetes"
    kust = yaml.safe_load((base / "kustomization.yaml").read_text(encoding="utf-8"))
    known = {"apiVersion", "kind", "labels", "resources", "configMapGenerator", "images"}
    unknown = set(kust) - known
    if unknown:
        die(f"kustomization.yaml uses {sorted(unknown)}: install kubectl, or teach k8s-render")
    docs = []
    for resource in kust.get("resources", []):
        docs.extend(load_all(base / resource))
    for gen in kust.get("configMapGenerator", []):
        if set(gen) - {"name", "files"}:
            die(f"configMapGenerator {gen.get('name')}: only name and files are followed")
        files = []
        for entry in gen.get("files", []):
            key, _, path = entry.rpartition("=")
            files.append((key or Path(path).name, base / path))
        docs.append(configmap(gen["name"], files))
    for label in kust.get("labels", []):
        if label.get("includeSelectors") or label.get("includeTemplates"):
            die("labels with includeSelectors/includeTemplates: install kubectl")
        for doc in docs:
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    for image in kust.get("images", []):
        for doc in docs:
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                name = container["image"].split("@")[0].rsplit(":", 1)[0]
                if name == image["name"]:
                    new = image.get("newName", name)
                    container["image"] = f"{new}:{image['newTag']}" if "newTag" in image else new
    # configmaps.sh with its defaults: every file of policies/ and config/tenants.yaml.
    labels = {"app.kubernetes.io/name": "frontdesk"}
    policies = sorted(p for p in (Path(repo) / "policies").iterdir() if p.is_file())
    docs.append(configmap("frontdesk-policies", [(p.name, p) for p in policies], labels))
    docs.append(
        configmap("frontdesk-tenants", [("tenants.yaml", Path(repo) / "config/tenants.yaml")], labels)
    )
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)


def k8s_same(kubectl_out, python_out):
    """Exit non-zero, listing the differences, unless both renderings hold the same objects."""
    import difflib

    import yaml

    ours = load_all(python_out)
    names = [d["metadata"]["name"] for d in ours if d.get("kind") == "ConfigMap"]
    hashed = re.compile(r'"(%s)-[a-z0-9]{10}"' % "|".join(map(re.escape, names))) if names else None

    def index(docs, strip_hash):
        out = {}
        for doc in docs:
            text = json.dumps(doc, sort_keys=True)
            if strip_hash and hashed:
                text = hashed.sub(r'"\1"', text)
            doc = json.loads(text)
            if doc.get("metadata", {}).get("creationTimestamp", 0) is None:
                del doc["metadata"]["creationTimestamp"]
            out[(doc["kind"], doc["metadata"]["name"])] = doc
        return out

    theirs, ours = index(load_all(kubectl_out), True), index(ours, False)
    bad = 0
    for key in sorted(set(theirs) | set(ours)):
        if theirs.get(key) != ours.get(key):
            bad += 1
            print(f"{key[0]}/{key[1]} differs (- kubectl, + deploy/shipped.py k8s-render):")
            dump = lambda d: yaml.safe_dump(d, sort_keys=True).splitlines() if d else []
            print("\n".join(difflib.unified_diff(dump(theirs.get(key)), dump(ours.get(key)),
                                                lineterm="", n=1)))
    if bad:
        sys.exit(1)
    print(f"the kubectl-less renderer agrees with kubectl ({len(ours)} objects)")


def k8s_root(manifests, root):
    docs = load_all(manifests)
    configmaps = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    if len(deployments) != 1:
        die(f"{manifests}: expected one Deployment, found {len(deployments)}")
    pod = deployments[0]["spec"]["template"]["spec"]
    containers = [c for c in pod["containers"] if c.get("image", "").split(":")[0] == "frontdesk"]
    if len(containers) != 1:
        die(f"{manifests}: expected one container running the frontdesk image")
    container = containers[0]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if volume is None:
            die(f"volumeMount {mount['name']} has no volume")
        target = under(root, mount["mountPath"])
        if "configMap" in volume:
            name = volume["configMap"]["name"]
            if name not in configmaps:
                die(f"volume {mount['name']}: ConfigMap {name} is not rendered")
            data = configmaps[name].get("data", {})
            if volume["configMap"].get("items"):
                die(f"volume {mount['name']}: configMap items are not followed")
            if "subPath" in mount:
                if mount["subPath"] not in data:
                    die(f"volume {mount['name']}: ConfigMap {name} has no key {mount['subPath']}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(data[mount["subPath"]], encoding="utf-8")
            else:
                target.mkdir(parents=True, exist_ok=True)
                for key, text in data.items():
                    (target / key).write_text(text, encoding="utf-8")
        elif "emptyDir" in volume:
            target.mkdir(parents=True, exist_ok=True)
        elif "secret" in volume:
            # Secrets are not shipped (secret.example.yaml only shows them): the directory is
            # there, its files are the caller's to provide.
            if "subPath" in mount:
                die(f"volume {mount['name']}: a Secret mounted with subPath never sees renewals")
            target.mkdir(parents=True, exist_ok=True)
        else:
            die(f"volume {mount['name']}: only configMap, emptyDir and secret volumes are followed")
    print(config_arg(container.get("command", []) + container.get("args", []), "frontdesk args"))


# ---- config files -----------------------------------------------------------------------------

# `key: /absolute/path` (optionally quoted), not in a comment.
ABSOLUTE = re.compile(r"""^(\s*(?:-\s+)?[A-Za-z_][A-Za-z0-9_]*:\s*["']?)/""")


def relocate(config, root):
    path = Path(config)
    prefix = str(Path(root).resolve()).rstrip("/") + "/"
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(ABSOLUTE.sub(lambda m: m.group(1) + prefix, l) for l in text),
                    encoding="utf-8")


def enable_tls(config):
    """Uncomments `# tls:` and the `#   cert:`/`#   key:` lines after it, as an operator would."""
    path = Path(config)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found, out, block = {}, [], None
    for line in lines:
        m = re.match(r"^(\s*)#\s?tls:\s*$", line)
        if m and block is None and not found:
            block = m.group(1)
            out.append(f"{block}tls:\n")
            continue
        m = re.match(r"^(\s*)#(\s+)(cert|key):\s*(\S+)\s*$", line)
        if block is not None and m and m.group(1) == block:
            found[m.group(3)] = m.group(4)
            out.append(f"{block}{m.group(2)[1:]}{m.group(3)}: {m.group(4)}\n")
            continue
        block = None
        out.append(line)
    if set(found) != {"cert", "key"}:
        die(f"{config}: no commented `tls:` block with cert and key")
    path.write_text("".join(out), encoding="utf-8")
    print(found["cert"])
    print(found["key"])


def ports(config, port, admin):
    """Sets the port of `server.listen` and `admin.listen`, keeping their host."""
    path = Path(config)
    section, done, out = None, set(), []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        top = re.match(r"^([A-Za-z_]+):", line)
        if top:
            section = top.group(1)
        m = re.match(r"^(\s+listen:\s*[\"']?)([^\s\"']+):(\d+)", line)
        if m and section in ("server", "admin"):
            new = port if section == "server" else admin
            line = f"{m.group(1)}{m.group(2)}:{new}" + line[m.end():]
            done.add(section)
        out.append(line)
    if done != {"server", "admin"}:
        die(f"{config}: no server.listen or admin.listen to set")
    path.write_text("".join(out), encoding="utf-8")


SECRET = re.compile(r"""\b(?:[a-z_]+_)?env:\s*["']?([A-Z][A-Z0-9_]*)""")


def secrets(paths):
    names = set()
    for arg in paths:
        p = Path(arg)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            names.update(SECRET.findall(f.read_text(encoding="utf-8", errors="replace")))
    print("\n".join(sorted(names)))


def secret_keys(manifest, name):
    keys = set()
    for doc in load_all(manifest):
        if doc.get("kind") == "Secret" and doc.get("metadata", {}).get("name") == name:
            keys.update(doc.get("stringData", {}) or {})
            keys.update(doc.get("data", {}) or {})
    if not keys:
        die(f"{manifest}: no keys in Secret {name}")
    print("\n".join(sorted(keys)))


def main(argv):
    if len(argv) == 2 and argv[0] == "docker-root":
        docker_root(argv[1])
    elif len(argv) == 3 and argv[0] == "k8s-render":
        k8s_render(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "k8s-same":
        k8s_same(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "k8s-root":
        k8s_root(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "relocate":
        relocate(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "ports":
        ports(*argv[1:])
    elif len(argv) == 3 and argv[0] == "secret-keys":
        secret_keys(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "enable-tls":
        enable_tls(argv[1])
    elif len(argv) >= 2 and argv[0] == "secrets":
        secrets(argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
