"""`portico rules`: every rule a finding can name, with its severity, why it matters and how to fix it."""

from __future__ import annotations

import argparse
import json
import textwrap

from portico.errors import EXIT_OK

WIDE = 140  # terminal cells from which the rules fit a table

# Rules of the stages that are not policy rules: (id, stage, severity, what, fix).
STAGE_RULES = (
    ("render", "render", "error", "helm refused these values (a values schema, `fail`, `required`, a kubeVersion range)",
     "change the values, or add an `expectations` entry when the refusal is intended"),
    ("expected-rejection", "expectation", "error", "a combination the matrix expects refused rendered, or was "
     "refused for another reason", "fix the chart's check, or the expectation's error text"),
    ("expected-property", "expectation", "error", "an `expectations` assert is false on a render",
     "fix the chart, or the assert"),
    ("kubeconform", "schema", "error", "an object is not valid for the Kubernetes version's schema (or its CRD's)",
     "fix the field named; for a kind without a schema: --schema-location, validate.skipKinds or the chart's CRD"),
    ("crd-schema", "schema", "warning", "a CRD's schema is no valid JSON Schema once converted from OpenAPI, so "
     "its custom resources are checked for apiVersion and kind only", "nothing in the chart; --admission checks "
     "them in full"),
    ("upgrade/removed-resource", "upgrade", "error", "an upgrade from the previous chart deletes an object",
     "keep it, or document the migration (and baseline the finding with the reason)"),
    ("upgrade/immutable-selector", "upgrade", "error", "a workload's selector changes: the API server refuses "
     "the upgrade", "keep selector labels stable across versions"),
    ("upgrade/immutable-statefulset", "upgrade", "error", "a StatefulSet's volumeClaimTemplates or serviceName "
     "change: refused", "keep them, or document a delete-and-recreate migration"),
    ("upgrade/immutable-job", "upgrade", "error", "a Job's pod template changes: refused", "give each revision "
     "its own Job name"),
    ("upgrade/service-cluster-ip", "upgrade", "error", "a Service's clusterIP changes: refused",
     "keep clusterIP (or None) stable"),
    ("upgrade/service-type", "upgrade", "error", "a Service's type changes in a way clients notice",
     "keep the type, or document the migration"),
    ("admission/rejected", "admission", "error", "the API server refuses the object (server-side dry-run)",
     "see the message: the server's own reason"),
    ("admission/pod-security", "admission", "error", "the namespace's Pod Security level refuses the pod",
     "meet the level the matrix asks for (restricted by default), or run with --pod-security baseline"),
    ("admission/not-served", "admission", "warning", "the API server does not serve the kind (a CRD not in the "
     "render)", "add the CRD to the chart, or to the cluster the check uses"),
    ("admission/warning", "admission", "warning", "the API server warns about the object", "see the warning"),
    ("admission/upgrade-rejected", "admission", "error", "the API server refuses the upgrade from the previous "
     "chart", "see the message: the server's own reason"),
    ("dependency-missing", "dependencies", "error", "portico ci: a dependency is nowhere offline",
     "vendor it, or pass --dependency-dir"),
    ("helm-lint", "lint", "error", "portico ci: helm lint --strict fails", "fix what helm lint names"),
    ("version-increment", "version", "error", "portico ci: the chart changed without a higher version",
     "bump Chart.yaml's version"),
)


def add_parser(sub) -> None:
    p = sub.add_parser("rules", help="list every rule a finding can name: severity, why, how to fix")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=handle)


def rows() -> list[dict]:
    from portico import policy

    out = [{"id": r.id, "stage": "policy" if not r.id.startswith("api/") else "deprecation",
            "severity": policy.severity(r.id) + (" (error with policy.profile: restricted)"
                                                 if policy.severity(r.id, "restricted") != policy.severity(r.id)
                                                 else ""),
            "what": r.message, "why": r.doc, "fix": r.hint}
           for r in (*policy.RULES, *policy.DEPRECATION_RULES.values(), policy.INTERNAL_RULE,
                     policy.UNKNOWN_SUPPRESSION)]
    out += [{"id": rid, "stage": stage, "severity": sev, "what": what, "why": "", "fix": fix}
            for rid, stage, sev, what, fix in STAGE_RULES]
    return out


def handle(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(rows(), indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if console.width >= WIDE:
        table = Table("rule", "stage", "severity", "what, and why it matters", "fix", title="portico rules")
        table.columns[0].no_wrap = True
        for row in rows():
            why = f" ({row['why']})" if row["why"] else ""
            table.add_row(row["id"], row["stage"], row["severity"], row["what"] + why, row["fix"])
        console.print(table)
    else:
        # Five columns in 80 cells cut every rule id: one rule per paragraph instead.
        for row in rows():
            why = f" ({row['why']})" if row["why"] else ""
            console.print(f"[bold]{escape(row['id'])}[/bold]  {row['stage']}, {escape(row['severity'])}",
                          highlight=False)
            for text in (row["what"] + why, f"fix: {row['fix']}"):
                print(textwrap.fill(text, width=max(40, console.width - 1), initial_indent="  ",
                                    subsequent_indent="  "))
            print()
    from portico.policy import IGNORE_ANNOTATION

    print(f"Suppress a policy rule on one object with the annotation {IGNORE_ANNOTATION}: \"RULE[, RULE]\" (on the "
          f"object or its pod template), or for a whole matrix with policy.disable (docs/matrix.md).")
    return EXIT_OK
