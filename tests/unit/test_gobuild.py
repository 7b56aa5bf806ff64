"""How a component's binaries are built: one `go build` for those named as their package is (parallel links)."""

from pathlib import Path

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
