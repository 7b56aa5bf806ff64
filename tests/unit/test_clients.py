"""The typed clients build the commands users would type, and read their answers (FakeRunner, no binaries)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portico.clients.go import Go
from portico.clients.helm import Helm, RenderError, RenderRequest, clean_error
from portico.clients.kubeconform import Kubeconform
from portico.clients.kubectl import Kubectl
from portico.errors import ToolError
from portico.process import CommandError, FakeRunner, Runner, tail


def test_helm_template_passes_values_layers_in_order_then_set():
    runner = FakeRunner()
    runner.answer(("helm", "template"), stdout="kind: ConfigMap\n")
    helm = Helm("helm", runner=runner)
    out = helm.template(RenderRequest(chart=Path("c"), values_files=[Path("base.yaml")], layers=[{"a": 1}, {"b": 2}],
                                      set_values=["x=1"], kube_version="1.34", api_versions=["v1/Thing"]))
    assert out == "kind: ConfigMap\n"
    args = runner.calls[0]
    values = [args[i + 1] for i, a in enumerate(args) if a == "--values"]
    assert values[0] == "base.yaml" and values[1].endswith("000.json") and values[2].endswith("001.json")
    assert args.index("--set") > args.index("--values")
    assert ("--kube-version", "1.34") == args[args.index("--kube-version"):args.index("--kube-version") + 2]


def test_helm_template_refusal_is_a_render_error_with_helms_reason():
    runner = FakeRunner()
    runner.answer(("helm", "template"), returncode=1,
                  stderr="WARNING: x\nError: values don't meet the specifications\nUse --debug flag to render out "
                         "invalid YAML")
    with pytest.raises(RenderError) as caught:
        Helm("helm", runner=runner).template(RenderRequest(chart=Path("c")))
    assert str(caught.value) == "values don't meet the specifications"
    assert "--debug" not in clean_error("Error: boom\nUse --debug flag to render out invalid YAML")


def test_helm_install_failure_carries_command_exit_code_and_stderr_tail():
    runner = FakeRunner()
    runner.answer(("helm", "--kubeconfig"), returncode=1, stderr="Error: context deadline exceeded")
    with pytest.raises(CommandError) as caught:
        Helm("helm", Path("kc"), runner).install_or_upgrade("r", "chart", "ns", [{"a": 1}])
    err = caught.value
    assert err.returncode == 1 and "context deadline exceeded" in err.stderr_tail
    assert str(err).startswith("helm upgrade failed (exit 1)")
    assert "--install" in err.args_run and "--wait" in err.args_run


def test_kubeconform_reads_its_json_report():
    runner = FakeRunner()
    runner.answer(("kubeconform",), returncode=1, stdout=json.dumps({
        "resources": [{"filename": "a.yaml", "kind": "Deployment", "name": "d", "status": "statusInvalid",
                       "msg": "bad"}, {"filename": "b.yaml", "kind": "Service", "status": "statusValid"}],
        "summary": {"valid": 1, "invalid": 1}}))
    result = Kubeconform("kubeconform", ["loc"], runner).validate("1.34", ["a.yaml"], skip_kinds=["Widget"])
    assert result.resources == 2 and [i.kind for i in result.invalid] == ["Deployment"]
    args = runner.calls[0]
    assert "-strict" in args and ("-skip", "Widget") == args[args.index("-skip"):args.index("-skip") + 2]
    assert "1.34.0" in args


def test_kubeconform_crash_is_a_tool_error():
    runner = FakeRunner()
    runner.answer(("kubeconform",), returncode=2, stderr="panic: schema location")
    with pytest.raises(ToolError, match="kubeconform failed .exit 2.: panic"):
        Kubeconform("kubeconform", [], runner).validate("1.34", ["x"])


def test_kubectl_get_parses_json_and_tolerates_a_failure_when_asked():
    runner = FakeRunner()
    runner.answer(("kubectl", "--kubeconfig", "kc", "-n", "ns", "get", "pods"), stdout='{"items": [{"a": 1}]}')
    runner.answer(("kubectl", "--kubeconfig", "kc", "get", "nodes"), returncode=1, stderr="refused")
    kubectl = Kubectl("kubectl", Path("kc"), runner)
    assert kubectl.get("pods", namespace="ns")["items"] == [{"a": 1}]
    assert kubectl.get("nodes", check=False) == {"items": []}


def test_go_mod_download_error_names_the_module():
    runner = FakeRunner()
    runner.answer(("go", "mod", "download"), returncode=1, stdout='{"Error": "not found"}')
    with pytest.raises(ToolError, match=r"go mod download example.com/x@v1 failed: not found"):
        Go("go", runner).mod_download("example.com/x", "v1")


def test_real_runner_times_out_with_a_command_error():
    with pytest.raises(CommandError, match="timed out"):
        Runner().run(["sleep", "5"], timeout=0.2)


def test_a_timeout_or_a_signal_is_a_tool_error_even_where_a_refusal_would_be_a_finding():
    from portico.clients.helm import RenderError
    from portico.errors import EXIT_TOOL

    with pytest.raises(CommandError, match="timed out") as slow:
        Runner().run(["sleep", "5"], timeout=0.2, failure=RenderError)
    assert type(slow.value) is CommandError and slow.value.exit_code == EXIT_TOOL
    with pytest.raises(CommandError) as killed:
        Runner().run(["sh", "-c", "kill -9 $$"], failure=RenderError)
    assert type(killed.value) is CommandError and killed.value.exit_code == EXIT_TOOL
    with pytest.raises(RenderError) as refused:  # the control: a refusal stays the client's finding
        Runner().run(["sh", "-c", "echo 'Error: values fail the schema' >&2; exit 1"], failure=RenderError)
    assert refused.value.exit_code == 1 and "values fail the schema" in str(refused.value)


def test_real_runner_missing_binary_is_a_tool_error():
    with pytest.raises(ToolError, match="not installed"):
        Runner().run(["/nonexistent/portico-no-such-tool"])


def test_feeding_a_process_that_already_ended_leaves_the_verdict_to_its_exit():
    """A tool that quits before it reads its input (kubectl run against a cluster that is gone) is judged by
    its exit code and stderr, not by the write into its closed pipe (a fresh-machine run, 2026-12-07: a
    BrokenPipeError)."""
    process = Runner().start(["sh", "-c", "echo gone >&2; exit 3"], stdin=True)
    process.wait(10)
    process.feed("x" * (1 << 20))  # more than a pipe holds: the write meets the closed end for sure
    assert process.wait(10) == 3 and "gone" in process.stderr_text()


def test_stderr_is_cut_one_way():
    text = "\n".join(f"line {i}" for i in range(100))
    assert tail(text).splitlines() == [f"line {i}" for i in range(88, 100)]
    assert len(tail("x" * 10_000)) == 1500


def test_verbose_logs_every_command(capsys):
    from portico import process

    lines: list[str] = []
    process.set_verbose(True)
    try:
        Runner(log=lines.append).run(["true"])
    finally:
        process.set_verbose(False)
    assert lines == ["+ true"]


def test_without_the_renderer_the_helm_loop_is_used_with_one_warning(monkeypatch):
    from portico import renderer

    def missing(name):
        if name == "portico-render":
            raise ToolError("portico-render not found")
        return "/bin/true"

    monkeypatch.setattr(renderer, "tool_path", missing)
    monkeypatch.setattr("portico.clients.helm.tool_path", missing)
    warnings: list[str] = []
    chosen = renderer.default_renderer(Path("chart"), warn=warnings.append)
    assert isinstance(chosen, renderer.HelmLoopRenderer)
    assert len(warnings) == 1 and "portico setup" in warnings[0] and "slower" in warnings[0]


def test_helm_is_given_time_for_the_timeout_it_will_use():
    """ct's helm-extra-args often say --timeout 600s after Portico's 300s: helm takes the last, and the process
    must not be killed before it."""
    from portico.clients.helm import Helm, _seconds, effective_timeout

    assert [_seconds(d) for d in ("300s", "5m30s", "1h", "90", "1.5m")] == [300, 330, 3600, 90, 90]
    assert effective_timeout("300s", ["-f", "v.yaml", "--timeout", "600s"]) == "600s"
    assert effective_timeout("300s", ["--timeout=10m"]) == "10m" and effective_timeout("300s", []) == "300s"
    seen = {}

    class Recording(FakeRunner):
        def run(self, args, **kw):
            seen["timeout"] = kw.get("timeout")
            return super().run(args, **kw)

    runner = Recording()
    runner.answer(("helm", "upgrade"), stdout="ok")
    Helm("helm", runner=runner).install_or_upgrade("r", "chart", "ns", timeout="300s", extra=["--timeout", "600s"])
    assert seen["timeout"] == 660
