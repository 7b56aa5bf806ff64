"""`portico cluster`: the local kind cluster (up, down, status, load-image, build)."""

from __future__ import annotations

import argparse

from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    import json

    from portico.cluster import kind, lifecycle

    if args.action == "up":
        endpoints = lifecycle.up(image=args.image)
        print(f"http:  {endpoints.http}\nhttps: {endpoints.https}\n"
              f"NodePorts {endpoints.node_ports.start}-{endpoints.node_ports.stop - 1} on 127.0.0.1\n"
              f"export KUBECONFIG={kind.kubeconfig_path()}")
    elif args.action == "down":
        lifecycle.down()
    elif args.action == "status":
        state = lifecycle.status()
        print(json.dumps(state, indent=2))
        return EXIT_OK if state["exists"] else EXIT_FINDINGS
    elif args.action == "load-image":
        if not args.images:
            raise InputError("load-image needs at least one image tag")
        for tag in args.images:
            kind.load_image(tag)
            print(f"loaded {tag}")
    elif args.action == "build":
        from portico.cluster import addons, nodeimage

        print(nodeimage.build())
        if args.addons:
            addons.build_images()
        else:  # the test app's images: any cluster made here runs them (the multi-node one too)
            addons.testapp_images(print)
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("cluster", help="manage the local kind cluster (up, down, status, load-image, build)",
                       description="A one-node kind cluster on 127.0.0.1 with Traefik (Ingress + Gateway API) and "
                                   "MetalLB. Offline, `build` (and `up`) assemble the node image from Go modules and "
                                   "Debian packages; docs/offline-cluster.md.")
    p.add_argument("action", choices=["up", "down", "status", "load-image", "build"])
    p.add_argument("images", nargs="*", help="image tags, for load-image")
    p.add_argument("--image", default=None, help="node image to use instead of the offline build (e.g. kindest/node)")
    p.add_argument("--addons", action="store_true",
                   help="build: the add-ons' images too (Traefik, MetalLB, vegeta), so `up` builds nothing")
    p.set_defaults(handler=handle)
