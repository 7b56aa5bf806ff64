"""How a component's binaries are built: one `go build` for those named as their package is (parallel links)."""

from pathlib import Path

import pytest

from portico.cluster import gobuild


def test_binaries_named_as_their_packages_build_in_one_go_build():
    steps = gobuild._build_steps(gobuild.KUBERNETES.packages, Path("/out"))
    assert steps == [("/out/", list(gobuild.KUBERNETES.packages.values()))]


def test_a_binary_named_otherwise_gets_its_own_build():
    # etcd's main package is the module root (…/server/v3): `go build -o dir/` would name it v3.
    assert gobuild._build_steps(gobuild.ETCD.packages, Path("/out")) == [("/out/etcd", ["go.etcd.io/etcd/server/v3"])]
    steps = gobuild._build_steps({"a": "x/cmd/a", "b": "x/cmd/b", "c": "x/cmd/other"}, Path("/o"))
    assert steps == [("/o/", ["x/cmd/a", "x/cmd/b"]), ("/o/c", ["x/cmd/other"])]


def test_a_single_binary_is_written_to_its_own_name():
    assert gobuild._build_steps({"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"}, Path("/o")) == [
        ("/o/crictl", ["sigs.k8s.io/cri-tools/cmd/crictl"])]


def _fake_module(root: Path, gomod_text: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "go.mod").write_text(gomod_text)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def test_a_patch_replaces_a_file_of_the_dependency_at_the_version_the_component_requires(tmp_path, monkeypatch):
    from portico.toolchain import gomod

    modules = {("example.com/app", "v1.0.0"): _fake_module(tmp_path / "app", "module example.com/app\n\nrequire (\n"
                                                           "\texample.com/dep v0.3.0 // indirect\n)\n", {}),
               ("example.com/dep", "v0.3.0"): _fake_module(tmp_path / "dep", "module example.com/dep\n",
                                                           {"reg/zz.go": "package reg // everything\n"})}
    monkeypatch.setattr(gomod, "module_dir", lambda module, version, **_: modules[(module, version)])
    app = gobuild.Component(name="app", module="example.com/app", version_key="APP", packages={})
    fork = gobuild._patched(app, "v1.0.0", "example.com/dep", {"reg/zz.go": "package reg // nothing\n"},
                            tmp_path / "work")
    assert (fork / "reg" / "zz.go").read_text() == "package reg // nothing\n"
    assert (tmp_path / "dep" / "reg" / "zz.go").read_text() == "package reg // everything\n"  # the cache untouched


def test_a_stale_patch_fails_the_build_instead_of_building_something_else(tmp_path, monkeypatch):
    from portico.errors import ToolError
    from portico.toolchain import gomod

    module = _fake_module(tmp_path / "app", "module example.com/app\n", {"main.go": "package main\n"})
    monkeypatch.setattr(gomod, "module_dir", lambda *a, **k: module)
    app = gobuild.Component(name="app", module="example.com/app", version_key="APP", packages={})
    with pytest.raises(ToolError, match="has no core/plugin/zplugin.go to patch"):
        gobuild._patched(app, "v1.0.0", "example.com/app", {"core/plugin/zplugin.go": ""}, tmp_path / "w1")
    with pytest.raises(ToolError, match="does not require example.com/gone"):
        gobuild._patched(app, "v1.0.0", "example.com/gone", {"x.go": ""}, tmp_path / "w2")


def test_the_wrapper_replaces_a_patched_module_the_component_does_not_replace_itself(tmp_path, monkeypatch):
    from portico.toolchain import gomod

    gomod_file = tmp_path / "src.mod"
    gomod_file.write_text("module example.com/app\n\nrequire example.com/dep v0.3.0\n\n"
                          "replace example.com/old => example.com/new v1.2.3\n")

    class FakeGo:
        def mod_download(self, module, version, env=None):
            return {"GoMod": str(gomod_file)}

    monkeypatch.setattr(gomod, "go", FakeGo)
    gomod.write_wrapper_module(tmp_path / "wrap", "example.com/app", "v1.0.0", ["example.com/app/cmd/a"],
                               local={"example.com/dep": "/tmp/dep-fork"})
    text = (tmp_path / "wrap" / "go.mod").read_text()
    assert "replace example.com/old => example.com/new v1.2.3" in text
    assert "replace example.com/dep => /tmp/dep-fork" in text


def test_required_version_reads_block_and_single_line_requires():
    from portico.toolchain import gomod

    text = "module m\n\nrequire example.com/one v1.0.0\n\nrequire (\n\texample.com/two v0.2.0 // indirect\n)\n"
    assert gomod.required_version(text, "example.com/one") == "v1.0.0"
    assert gomod.required_version(text, "example.com/two") == "v0.2.0"
    assert gomod.required_version(text, "example.com/tw") is None


def test_the_cluster_components_leave_out_what_a_local_cluster_never_runs():
    from portico.cluster import addons

    zplugin = gobuild.COREDNS.patches["github.com/coredns/coredns"]["core/plugin/zplugin.go"]
    # kubeadm's Corefile, as kind writes it, uses these; the patch must keep every one.
    for plugin in ("errors", "health", "ready", "kubernetes", "metrics", "forward", "cache", "loop", "reload",
                   "loadbalance"):
        assert f'"github.com/coredns/coredns/plugin/{plugin}"' in zplugin
    for plugin in ("azure", "clouddns", "route53"):
        assert f"plugin/{plugin}\"" not in zplugin
    lego = addons.TRAEFIK.patches["github.com/go-acme/lego/v4"]["providers/dns/zz_gen_dns_providers.go"]
    assert "func NewDNSChallengeProviderByName(name string) (challenge.Provider, error)" in lego
