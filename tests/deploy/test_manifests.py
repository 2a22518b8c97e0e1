"""deploy/: every manifest validates offline against the official Kubernetes schemas
(kubernetes-validate, strict: unknown fields fail), and the pieces fit together."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import typer
import yaml

from app.commands import release as release_command
from app.commands import serve as serve_command

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# schedulingGates are GA from 1.30; validate against that and the newest schemas bundled
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def documents() -> list[dict]:
    docs = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def by_kind(kind: str) -> list[dict]:
    return [d for d in documents() if d["kind"] == kind]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(version):
    docs = documents()
    assert {d["kind"] for d in docs} >= {
        "Deployment", "Service", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
        "CronJob", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "ConfigMap"}
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_a_broken_manifest_is_caught():
    (deployment,) = by_kind("Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def test_the_kustomization_lists_every_manifest():
    listed = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in DEPLOY.glob("*.yaml")
                                    if p.name != "kustomization.yaml")


def test_webhooks_fail_open_fast_and_point_at_the_service():
    (service,) = by_kind("Service")
    paths = set()
    for config in by_kind("MutatingWebhookConfiguration") + by_kind(
            "ValidatingWebhookConfiguration"):
        mutating = config["kind"].startswith("Mutating")
        for hook in config["webhooks"]:
            assert hook["failurePolicy"] == "Ignore"
            assert hook["timeoutSeconds"] <= 5
            assert hook["sideEffects"] == ("NoneOnDryRun" if mutating else "None")
            assert hook["admissionReviewVersions"] == ["v1"]
            assert hook["objectSelector"] and hook["namespaceSelector"]
            excluded = [e for e in hook["namespaceSelector"]["matchExpressions"]
                        if e["key"] == "kubernetes.io/metadata.name"]
            assert "gridshift" in excluded[0]["values"]  # never its own Pods
            svc = hook["clientConfig"]["service"]
            assert (svc["name"], svc["namespace"]) == (service["metadata"]["name"],
                                                       service["metadata"]["namespace"])
            assert svc["port"] == service["spec"]["ports"][0]["port"]
            paths.add(svc["path"])
            assert {(r["apiGroups"][0], r["resources"][0]) for r in hook["rules"]} == {
                ("", "pods"), ("batch", "jobs")}
    assert paths == {"/mutate", "/mutate/namespace", "/validate", "/validate/namespace"}


def _options(register) -> set[str]:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """gridshift"""

    group = typer.main.get_command(app)
    (command,) = group.commands.values()
    return {opt for p in command.params if p.param_type_name == "option" for opt in p.opts}


def test_the_deployment_runs_serve_with_flags_serve_knows_and_mounted_files():
    (deployment,) = by_kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert args[0] == "serve"
    known = _options(serve_command.register)
    flags = {a.split("=", 1)[0] for a in args[1:]}
    assert flags <= known, flags - known
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for arg in args[1:]:
        value = arg.split("=", 1)[1]
        if value.startswith("/"):
            assert any(value.startswith(m + "/") for m in mounts), value
    port = int(next(a for a in args if a.startswith("--port=")).split("=")[1])
    assert container["ports"][0]["containerPort"] == port
    env = {e["name"] for e in container["env"]}
    assert {"GRIDSHIFT_DB", "GRIDSHIFT_API_TOKEN"} <= env
    assert pod["serviceAccountName"] == "gridshift-webhook"


def test_the_releaser_may_list_and_patch_pods_and_jobs_and_nothing_more():
    (role,) = by_kind("ClusterRole")
    grants = {(r["apiGroups"][0], res, verb) for r in role["rules"] for res in r["resources"]
              for verb in r["verbs"]}
    assert grants == {("", "pods", "list"), ("", "pods", "patch"),
                      ("batch", "jobs", "list"), ("batch", "jobs", "patch")}
    (binding,) = by_kind("ClusterRoleBinding")
    assert binding["subjects"][0]["name"] == "gridshift-webhook"
    assert _options(release_command.register) >= {"--kubeconfig", "--loop", "--interval"}


def test_the_cronjob_stores_each_plan_and_never_overlaps():
    (cron,) = by_kind("CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]
    assert pod["metadata"]["labels"]["gridshift.io/managed"] == "false"  # not its own webhook
    args = pod["spec"]["containers"][0]["args"]
    assert args[0] == "plan" and "--store=$(GRIDSHIFT_DB)" in args


def test_the_image_runs_gridshift_as_a_non_root_user():
    text = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["gridshift"]' in text
    user = [line for line in text.splitlines() if line.startswith("USER ")]
    assert user and not user[-1].split()[1].startswith(("0", "root"))
