"""The chart's rejections: bad values and the exact message a user sees (one table).

tests/chart/test_rejections.py asserts every message on helm 4 and helm 3;
`python -m tests.chart.rejections` (run by `make docs`) writes the table into
charts/portico/README.md.gotmpl, so the README lists what the tests prove.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CHART = Path(__file__).resolve().parents[2] / "charts" / "portico"
START, END = "<!-- rejections:start -->", "<!-- rejections:end -->"

# Bad values and the exact message a user sees, on helm 4 and helm 3. The first group is
# helm's own schema check (types, choices, required keys: its messages are plain);
# the rest are the chart's templates (_check.tpl walking the rules of values.schema.yaml,
# and the cross-field rules of _validate.tpl). charts/portico/README.md lists every one.
DATA = {"type": "pvc", "mountPath": "/data", "size": "1Gi"}
READ_CONFIGMAPS = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}
TOKEN = {"serviceAccount": {"automountServiceAccountToken": True}}
CPU_TRIGGER = {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}

HELM_SCHEMA = {
    "service type is a choice": ({"service": {"type": "Nodeport"}},
                                 "at '/service/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer', "
                                 "'ExternalName'"),
    "workload kind is a choice": ({"workload": {"kind": "ReplicaSet"}},
                                  "at '/workload/kind': value must be one of 'Deployment', 'StatefulSet', "
                                  "'DaemonSet', 'Job', 'CronJob', 'None'"),
    "pdb enabled is a choice": ({"podDisruptionBudget": {"enabled": "yes"}},
                                "at '/podDisruptionBudget/enabled': value must be one of 'auto', true, false"),
    "preStop mode is a choice": ({"lifecycle": {"preStop": {"mode": "wait"}}},
                                 "at '/lifecycle/preStop/mode': value must be one of 'sleep', 'exec', 'none'"),
    "expose.via is a choice": ({"expose": {"via": ["nginx"]}},
                               "at '/expose/via/0': value must be one of 'ingress', 'httpRoute', 'route'"),
    "replicaCount is a number": ({"replicaCount": "three"}, "at '/replicaCount': got string, want integer"),
    "service port needs a port": ({"service": {"ports": [{"name": "http", "targetPort": "http"}]}},
                                  "at '/service/ports/0': missing property 'port'"),
    "container port needs a number": ({"ports": [{"name": "http"}]},
                                      "at '/ports/0': missing property 'containerPort'"),
}

CHECKS = {
    "a volume name in capitals": ({"persistence": {"Data": {"type": "emptyDir", "mountPath": "/data"}}},
                                  'persistence: the key "Data" is not a name of lowercase letters, digits and \'-\', '
                                  "starting and ending with a letter or digit (at most 30 characters; it names the "
                                  "volume and the claim)"),
    "a size that is not a quantity": ({"persistence": {"data": dict(DATA, size="1gb")}},
                                      'persistence.data.size: "1gb" is not a quantity such as 1Gi or 500Mi'),
    "unknown top-level key": ({"replicas": 3}, 'values (top level): unknown key "replicas"; did you mean "replicaCount"?'),
    "unknown nested key": ({"service": {"typ": "NodePort"}}, 'service: unknown key "typ"; did you mean "type"?'),
    "key in the wrong case": ({"Service": {}}, 'values (top level): unknown key "Service"; did you mean "service"?'),
    "snake_case key": ({"service_account": {}},
                       'values (top level): unknown key "service_account"; did you mean "serviceAccount"?'),
    "probe handler typo": ({"probes": {"readiness": {"spec": {"httpGett": {}}}}},
                           'probes.readiness.spec: unknown key "httpGett"; did you mean "httpGet"?'),
    "unknown key among few": ({"tmpVolume": {"medium": "Memory"}},
                              'tmpVolume: unknown key "medium"; the keys here are enabled, mountPath, sizeLimit'),
    "unknown key in an additional Service": ({"additionalServices": {"admin": {"prots": []}}},
                                             'additionalServices.admin: unknown key "prots"; did you mean "ports"?'),
    "port out of range": ({"service": {"ports": [{"name": "http", "port": 70000}]}},
                          "service.ports[0].port: 70000 is out of range; use a number from 1 to 65535"),
    "container port out of range": ({"ports": [{"name": "http", "containerPort": 0}]},
                                    "ports[0].containerPort: 0 is out of range; use a number from 1 to 65535"),
    "port name too long": ({"ports": [{"name": "a-very-long-port-name", "containerPort": 80}]},
                           'ports[0].name: "a-very-long-port-name" is 21 characters long, at most 15 are allowed; '
                           "expected an IANA_SVC_NAME (lowercase letters, digits, '-'; at most 15 characters)"),
    "port name characters": ({"ports": [{"name": "Web", "containerPort": 80}]},
                             "ports[0].name: \"Web\" is not an IANA_SVC_NAME (lowercase letters, digits, '-'; at most "
                             "15 characters)"),
    "hostname": ({"expose": {"via": ["ingress"], "hosts": [{"host": "Shop_Example.com", "paths": [{"path": "/"}]}]}},
                 "expose.hosts[0].host: \"Shop_Example.com\" is not a hostname of lowercase letters, digits, '-' and "
                 "'.', optionally starting with '*.', such as shop.example.com"),
    "path starts with /": ({"expose": {"via": ["ingress"], "hosts": [{"host": "a.example.com",
                                                                       "paths": [{"path": "api"}]}]}},
                           "expose.hosts[0].paths[0].path: \"api\" is not a path starting with '/'"),
    "paths not empty": ({"expose": {"via": ["ingress"], "hosts": [{"host": "a.example.com", "paths": []}]}},
                        "expose.hosts[0].paths: needs at least 1 item"),
    "image digest": ({"image": {"digest": "sha256:abc"}},
                     'image.digest: "sha256:abc" is not an image digest: sha256: and 64 lowercase hex digits (or empty)'),
    "image tag": ({"image": {"tag": "-rc1"}},
                  "image.tag: \"-rc1\" is not an image tag of letters, digits, '_', '.' and '-' (at most 128, not "
                  "starting with '.' or '-')"),
    "image repository with a tag": ({"image": {"repository": "nginx:1.27"}},
                                    'image.repository: "nginx:1.27" is not an image repository such as ghcr.io/org/app, '
                                    "without a tag or digest (set image.tag or image.digest)"),
    "image repository empty": ({"image": {"repository": ""}},
                               "image.repository: must not be empty; expected an image repository such as "
                               "ghcr.io/org/app, without a tag or digest (set image.tag or image.digest)"),
    "name override too long": ({"nameOverride": "x" * 64},
                               f'nameOverride: "{"x" * 64}" is 64 characters long, at most 63 are allowed; expected a '
                               "name for resource names (at most 63 characters)"),
    "env variable name": ({"env": {"1FOO": "x"}},
                          "env: the key \"1FOO\" is not an environment variable name of letters, digits, '_', '-' and "
                          "'.', not starting with a digit"),
    "env value kind": ({"env": {"FOO": ["a"]}},
                       "env.FOO: got a list, expected true or false, a number, a map or a string"),
    "env list entry needs a name": ({"env": [{"value": "x"}]}, 'env[0]: the key "name" is required'),
    "env entry with an unknown key": ({"env": {"FOO": {"valueFrm": {}}}},
                                      "2 problems in the values:\n"
                                      '  - env.FOO: the key "valueFrom" is required\n'
                                      '  - env.FOO: unknown key "valueFrm"; did you mean "valueFrom"?'),
    "source range is a CIDR": ({"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0"]}},
                               'service.loadBalancerSourceRanges[0]: "10.0.0.0" is not a CIDR range such as 10.0.0.0/8'),
    "at most two IP families": ({"service": {"ipFamilies": ["IPv4", "IPv6", "IPv4"]}},
                                "service.ipFamilies: has 3 items, at most 2 are allowed"),
    "additional Service name": ({"additionalServices": {"Admin_API": {}}},
                                "additionalServices: the key \"Admin_API\" is not a name of lowercase letters, digits "
                                "and '-', starting and ending with a letter or digit (at most 30 characters; it "
                                "becomes part of resource names)"),
    "extra Ingress name too long": ({"ingress": {"extra": {"a" * 31: {}}}},
                                    f'ingress.extra: the key "{"a" * 31}" is 31 characters long, at most 30 are '
                                    "allowed; expected a name of lowercase letters, digits and '-', starting and "
                                    "ending with a letter or digit (at most 30 characters; it becomes part of "
                                    "resource names)"),
    "route timeout": ({"httpRoute": {"timeouts": {"request": "ten seconds"}}},
                      'httpRoute.timeouts.request: "ten seconds" is not a Gateway API duration such as 10s, 500ms or '
                      "1h30m"),
    "parentRefs not empty": ({"httpRoute": {"parentRefs": []}}, "httpRoute.parentRefs: needs at least 1 item"),
    "parentRef name": ({"grpcRoute": {"parentRefs": [{"name": "Main Gateway"}]}},
                       "grpcRoute.parentRefs[0].name: \"Main Gateway\" is not a Kubernetes name of lowercase letters, "
                       "digits and '-', starting and ending with a letter or digit (at most 63 characters)"),
    "backend weight": ({"httpRoute": {"rules": [{"backendRefs": [{"weight": 2000000}]}]}},
                       "httpRoute.rules[0].backendRefs[0].weight: 2000000 is out of range; use a number from 0 to "
                       "1000000"),
    "scrape interval": ({"serviceMonitor": {"interval": "30"}},
                        'serviceMonitor.interval: "30" is not a Prometheus duration such as 30s or 1m'),
    "probe period": ({"probes": {"readiness": {"spec": {"periodSeconds": 0}}}},
                     "probes.readiness.spec.periodSeconds: 0 is too small; use 1 or more"),
    "session affinity timeout": ({"service": {"sessionAffinity": "ClientIP", "sessionAffinityTimeoutSeconds": 90000}},
                                 "service.sessionAffinityTimeoutSeconds: 90000 is out of range; use a number from 1 "
                                 "to 86400"),
    "preStop command not empty": ({"lifecycle": {"preStop": {"mode": "exec", "execCommand": []}}},
                                  "lifecycle.preStop.execCommand: needs at least 1 item"),
    "maxSurge is a number or a percentage": ({"strategy": {"rollingUpdate": {"maxSurge": "25"}}},
                                             'strategy.rollingUpdate.maxSurge: "25" is not a whole number or a '
                                             "percentage such as 25%"),
    "minAvailable kind": ({"podDisruptionBudget": {"minAvailable": True}},
                          "at '/podDisruptionBudget/minAvailable': got boolean, want null or integer or string"),
    "image pull secret name": ({"imagePullSecrets": ["Registry Key"]},
                               "imagePullSecrets[0]: \"Registry Key\" is not a Kubernetes name of lowercase letters, "
                               "digits and '-', starting and ending with a letter or digit (at most 63 characters)"),
    "config mount path": ({"configMap": {"mountPath": "etc/app"}},
                          "configMap.mountPath: \"etc/app\" is not an absolute path starting with '/' (or empty: not "
                          "mounted)"),
    "several problems at once": ({"service": {"typ": "x"}, "image": {"digest": "x"}},
                                 "2 problems in the values:\n"
                                 '  - image.digest: "x" is not an image digest: sha256: and 64 lowercase hex digits '
                                 "(or empty)\n"
                                 '  - service: unknown key "typ"; did you mean "type"?'),
}

HTTP = {"name": "http", "port": 80, "targetPort": "http"}
HOST = [{"host": "a.example.com", "paths": [{"path": "/"}]}]

CROSS_FIELD = {
    "nodePort needs NodePort or LoadBalancer": (
        {"service": {"type": "ClusterIP", "ports": [dict(HTTP, nodePort=30080)]}},
        "service.ports[0].nodePort: only a NodePort or LoadBalancer Service has node ports (type is ClusterIP); "
        "remove it or change the type"),
    "no externalTrafficPolicy on ClusterIP": (
        {"service": {"externalTrafficPolicy": "Local"}},
        "service.externalTrafficPolicy: only a NodePort or LoadBalancer Service has one (type is ClusterIP); "
        "remove it or change the type"),
    "loadBalancerClass only with LoadBalancer": (
        {"service": {"type": "NodePort", "loadBalancerClass": "x"}},
        "service.loadBalancerClass: only a LoadBalancer Service takes it (type is NodePort); remove it or set "
        "type: LoadBalancer"),
    "allocateLoadBalancerNodePorts only with LoadBalancer": (
        {"service": {"allocateLoadBalancerNodePorts": False}},
        "service.allocateLoadBalancerNodePorts: only a LoadBalancer Service takes it (type is ClusterIP); remove it "
        "or set type: LoadBalancer"),
    "loadBalancerSourceRanges only with LoadBalancer": (
        {"service": {"loadBalancerSourceRanges": ["10.0.0.0/8"]}},
        "service.loadBalancerSourceRanges: only a LoadBalancer Service takes it (type is ClusterIP); remove it or "
        "set type: LoadBalancer"),
    "an additional Service is judged by its own type": (
        {"service": {"type": "LoadBalancer"},
         "additionalServices": {"metrics": {"ports": [HTTP], "loadBalancerClass": "x"}}},
        "additionalServices.metrics.loadBalancerClass: only a LoadBalancer Service takes it (type is ClusterIP); "
        "remove it or set type: LoadBalancer"),
    "sessionAffinityTimeoutSeconds only with ClientIP": (
        {"service": {"sessionAffinityTimeoutSeconds": 60}},
        "service.sessionAffinityTimeoutSeconds: only applies with sessionAffinity: ClientIP; set that too or remove "
        "the timeout"),
    "ExternalName needs externalName": (
        {"service": {"type": "ExternalName"}},
        "service.externalName: required when service.type is ExternalName: the DNS name the Service points to, such "
        "as db.example.com"),
    "externalName is a DNS name": (
        {"service": {"type": "ExternalName", "externalName": "DB_host"}},
        "service.externalName: \"DB_host\" is not a DNS name of lowercase letters, digits, '-' and '.', such as "
        "db.example.com"),
    "headless must be ClusterIP": (
        {"service": {"type": "NodePort", "clusterIP": "None"}},
        "service.type: a headless Service (clusterIP None) must have type ClusterIP, not NodePort; drop clusterIP: "
        "None or set type: ClusterIP"),
    "maxSurge and maxUnavailable not both zero": (
        {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}},
        "strategy.rollingUpdate: maxSurge and maxUnavailable cannot both be 0: the rollout could never make "
        "progress; set maxSurge to 1 (the default) or maxUnavailable above 0"),
    "expose.via needs hosts": (
        {"expose": {"via": ["ingress"], "hosts": []}},
        "expose.hosts: expose.via (ingress) needs at least one host, such as [{host: app.example.com, paths: "
        "[{path: /}]}]"),
    "grace period above preStop sleep": (
        {"terminationGracePeriodSeconds": 10},
        "terminationGracePeriodSeconds: 10 must exceed lifecycle.preStop.seconds (10), or the pod is killed before "
        "it drains"),
    "TLS hosts among rule hosts": (
        {"expose": {"hosts": HOST, "tls": {"enabled": True, "hosts": ["b.example.com"]}}},
        'expose.tls.hosts[0]: "b.example.com" is not one of the hosts (a.example.com); add it to the hosts or '
        "remove it from tls.hosts"),
    "TLS hosts of extra ingresses": (
        {"ingress": {"extra": {"admin": {"hosts": HOST, "tls": {"enabled": True, "hosts": ["c.example.com"]}}}}},
        'ingress.extra.admin.tls.hosts[0]: "c.example.com" is not one of the hosts (a.example.com); add it to the '
        "hosts or remove it from tls.hosts"),
    "nodePort inside the node port range": (
        {"service": {"type": "NodePort", "ports": [dict(HTTP, nodePort=8080)]}},
        "service.ports[0].nodePort: 8080 is outside nodePortRange 30000-32767 (set nodePortRange if your cluster "
        "uses another --service-node-port-range)"),
    "targetPort name is a container port": (
        {"service": {"ports": [{"name": "http", "port": 80, "targetPort": "web"}]}},
        'service.ports[0].targetPort: "web" is not a container port name (ports: http); use one of those names '
        "or a port number"),
    "additional service targetPort": (
        {"additionalServices": {"admin": {"ports": [{"name": "admin", "port": 9000, "targetPort": "admin"}]}}},
        'additionalServices.admin.ports[0].targetPort: "admin" is not a container port name (ports: http); use one '
        "of those names or a port number"),
    "probe port name is a container port": (
        {"probes": {"readiness": {"spec": {"httpGet": {"path": "/", "port": "metrics"}}}}},
        'probes.readiness.spec: port "metrics" is not a container port name (ports: http); use one of those names '
        "or a port number"),
    "container port names unique": (
        {"ports": [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]},
        'ports[1].name: "http" is used twice; container port names must be unique'),
    "env names unique": (
        {"env": [{"name": "MODE", "value": "a"}, {"name": "MODE", "value": "b"}]},
        'env[1].name: "MODE" is set twice; set each variable once (server-side apply, helm 4\'s default, refuses '
        "duplicates)"),
    "service port names required with several ports": (
        {"service": {"ports": [HTTP, {"port": 81, "targetPort": "http"}]}},
        "service.ports[1].name: required when a Service has several ports; give each a name such as http or "
        "metrics"),
    "service-only mode needs a selector": (
        {"workload": {"kind": "None"}},
        "workload.selector: required when workload.kind is None (service-only mode needs the labels of the pods to "
        "expose)"),
    "HPA min above max": (
        {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}},
        "autoscaling.minReplicas: 5 is above autoscaling.maxReplicas (2); raise maxReplicas or lower minReplicas"),
    "HPA needs a metric": (
        {"autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": None}},
        "autoscaling: enabled but neither targetCPUUtilizationPercentage nor targetMemoryUtilizationPercentage is "
        "set; set one, such as targetCPUUtilizationPercentage: 80"),
    "ingress backend port exists": (
        {"expose": {"via": ["ingress"], "hosts": [{"host": "a.example.com",
                                                   "paths": [{"path": "/", "service": {"port": "grpc"}}]}]}},
        "expose.hosts[0].paths[0].service.port: port grpc is not a port of this release's Service (service.ports: "
        "http); use one of those names or numbers"),
    "gateway backendRef to another service needs a number": (
        {"expose": {"via": ["httpRoute"], "hosts": [{"host": "a.example.com", "paths": [
            {"path": "/", "service": {"name": "other", "port": "http"}}]}]}},
        'expose.hosts[0].paths[0].service.port: Gateway API backendRefs need a port number for service "other", got http; '
        "give the number of that Service's port"),
    "default backend port exists": (
        {"expose": {"via": ["ingress"]}, "ingress": {"defaultBackend": {"service": {"port": 8443}}}},
        "ingress.defaultBackend.service.port: port 8443 is not a port of this release's Service (service.ports: "
        "http); use one of those names or numbers"),
    "route rule backendRef port exists": (
        {"expose": {"via": ["httpRoute"]}, "httpRoute": {"rules": [{"backendRefs": [{"port": 9999}]}]}},
        "httpRoute.rules[0].backendRefs[0]: port 9999 is not a port of this release's Service (service.ports: "
        "http); use one of those names or numbers"),
    "DaemonSet is not autoscaled": (
        {"workload": {"kind": "DaemonSet"}, "autoscaling": {"enabled": True}},
        "autoscaling.enabled: a DaemonSet runs one pod per node and cannot be autoscaled; set it to false (or use "
        "workload.kind Deployment)"),
    "DaemonSet does not Recreate": (
        {"workload": {"kind": "DaemonSet"}, "strategy": {"type": "Recreate"}},
        "strategy.type: a DaemonSet updates with RollingUpdate or OnDelete, not Recreate"),
    "DaemonSet has no partitions": (
        {"workload": {"kind": "DaemonSet"}, "strategy": {"rollingUpdate": {"partition": 1}}},
        "strategy.rollingUpdate.partition: only a StatefulSet has partitions; a DaemonSet takes maxSurge and "
        "maxUnavailable"),
    "StatefulSet does not Recreate": (
        {"workload": {"kind": "StatefulSet"}, "strategy": {"type": "Recreate"}},
        "strategy.type: a StatefulSet updates with RollingUpdate or OnDelete, not Recreate"),
    "Deployment has no OnDelete": (
        {"strategy": {"type": "OnDelete"}},
        "strategy.type: a Deployment updates with RollingUpdate or Recreate; OnDelete is for a StatefulSet or a "
        "DaemonSet"),
    "Deployment has no partitions": (
        {"strategy": {"rollingUpdate": {"partition": 0}}},
        "strategy.rollingUpdate.partition: only a StatefulSet has partitions; a Deployment takes maxSurge and "
        "maxUnavailable"),
    "Job is not autoscaled": (
        {"workload": {"kind": "Job"}, "autoscaling": {"enabled": True}},
        "autoscaling.enabled: a Job runs pods to completion and cannot be autoscaled; set it to false "
        "(job.parallelism runs several at once)"),
    "CronJob has no PodDisruptionBudget": (
        {"workload": {"kind": "CronJob"}, "cronJob": {"schedule": "@daily"}, "podDisruptionBudget": {"enabled": True}},
        "podDisruptionBudget.enabled: a CronJob's pods run to completion, so a PodDisruptionBudget has nothing to "
        "keep available; set it to auto or false"),
    "service port names unique": (
        {"service": {"ports": [HTTP, dict(HTTP, port=81)]}},
        'service.ports[1].name: "http" is used twice; Service port names must be unique'),
    "CronJob needs a schedule": (
        {"workload": {"kind": "CronJob"}},
        'cronJob.schedule: required for workload.kind CronJob: a cron expression such as "*/15 * * * *"'),
    "a Job serves nothing unless asked": (
        {"workload": {"kind": "Job"}, "expose": {"via": ["ingress"], "hosts": HOST}},
        "expose.via: a Job serves no traffic unless asked; set job.service: true to give it its Services, or empty "
        "expose.via"),
    "a created claim needs a size": (
        {"persistence": {"data": {"type": "pvc", "mountPath": "/data"}}},
        "persistence.data.size: required for a claim the chart creates, such as 1Gi (or set existingClaim to mount a "
        "claim that exists)"),
    "a ReadWriteOnce claim and several replicas": (
        {"replicaCount": 3, "persistence": {"data": DATA}},
        "persistence.data.accessModes: a ReadWriteOnce claim can be mounted on one node only, and the Deployment runs "
        "3 replicas (replicaCount); use ReadWriteMany (with a storage class that offers it), a single pod, or a "
        "StatefulSet's statefulSet.volumeClaimTemplates for a claim per pod"),
    "a ReadWriteOnce claim on a DaemonSet": (
        {"workload": {"kind": "DaemonSet"}, "persistence": {"data": DATA}},
        "persistence.data.accessModes: a ReadWriteOnce claim can be mounted on one node only, and a DaemonSet runs a "
        "pod on every node; use ReadWriteMany (with a storage class that offers it), a single pod, or a "
        "StatefulSet's statefulSet.volumeClaimTemplates for a claim per pod"),
    "a ReadWriteOncePod claim and a surge rollout": (
        {"replicaCount": 1, "persistence": {"data": dict(DATA, accessModes=["ReadWriteOncePod"])}},
        "persistence.data.accessModes: ReadWriteOncePod lets one pod mount the claim, so a rolling update's new pod "
        "would wait for the old one, which stays until the new one is ready; set strategy.type: Recreate (the pod is "
        "down while it restarts) or use ReadWriteOnce"),
    "a claim key on an emptyDir": (
        {"persistence": {"cache": {"type": "emptyDir", "mountPath": "/cache", "size": "1Gi"}}},
        "persistence.cache.size: only a claim the chart creates (type pvc without existingClaim) takes it; remove it"),
    "existingClaim on a secret": (
        {"persistence": {"creds": {"type": "secret", "name": "creds", "mountPath": "/creds", "existingClaim": "c"}}},
        "persistence.creds.existingClaim: only type pvc takes it (type is secret); remove it or change the type"),
    "a configMap volume needs its name": (
        {"persistence": {"settings": {"type": "configMap", "mountPath": "/etc/app"}}},
        "persistence.settings.name: required for type configMap: the name of the configMap to mount"),
    "two volumes at one path": (
        {"persistence": {"scratch": {"type": "emptyDir", "mountPath": "/tmp"}}},
        "persistence.scratch.mountPath: /tmp is also where tmpVolume is mounted; give each volume its own path"),
    "a volume name taken": (
        {"persistence": {"tmp": {"type": "emptyDir", "mountPath": "/scratch"}}},
        'persistence.tmp: the volume name "tmp" is already used by tmpVolume; give this entry another name'),
    "persistence with no pods": (
        {"workload": {"kind": "None", "selector": {"app": "x"}}, "persistence": {"data": DATA}},
        "persistence.data: this release runs no pods (workload.kind None or an ExternalName Service), so nothing "
        "would mount it; remove it"),
    "RBAC without a token": (
        {"rbac": {"rules": [READ_CONFIGMAPS]}},
        "rbac.rules: the pod gets no API token to use them (serviceAccount.automountServiceAccountToken is false); "
        "set it to true, or mount a projected serviceAccountToken in volumes"),
    "RBAC for the default ServiceAccount": (
        {"rbac": {"rules": [READ_CONFIGMAPS]}, "serviceAccount": {"create": False}},
        "rbac.rules: they would be granted to the namespace's default ServiceAccount, which every pod without its own "
        "runs as; set serviceAccount.create: true or name a ServiceAccount in serviceAccount.name"),
    "an RBAC rule without apiGroups": (
        {"rbac": {"rules": [{"resources": ["configmaps"], "verbs": ["get"]}]}, **TOKEN},
        'rbac.rules[0].apiGroups: required with resources; use [""] for the core group (pods, configmaps, secrets) '
        "or the resources' group, such as apps"),
    "nonResourceURLs in a Role": (
        {"rbac": {"rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}, **TOKEN},
        "rbac.rules[0].nonResourceURLs: only a ClusterRole grants them; set rbac.clusterWide: true or remove them"),
    "RBAC with no pods": (
        {"service": {"type": "ExternalName", "externalName": "db.example.com"}, "rbac": {"rules": [READ_CONFIGMAPS]},
         **TOKEN},
        "rbac.rules: this release runs no pods (workload.kind None or an ExternalName Service), so nothing would use "
        "them; remove them"),
    "an RBAC rule for resources and URLs": (
        {"rbac": {"clusterWide": True, "rules": [dict(READ_CONFIGMAPS, nonResourceURLs=["/metrics"])]}, **TOKEN},
        "rbac.rules[0]: a rule grants resources (apiGroups, resources, resourceNames) or nonResourceURLs, not both; "
        "split it in two"),
    "a BackendTLSPolicy needs the certificate's name": (
        {"backendTLSPolicy": {"enabled": True, "wellKnownCACertificates": "System"}},
        "backendTLSPolicy.hostname: required: the name the backend's certificate is issued for, which the Gateway "
        "sends as SNI, such as app.apps.svc.cluster.local"),
    "a BackendTLSPolicy hostname is a DNS name": (
        {"backendTLSPolicy": {"enabled": True, "hostname": "*.example.com", "wellKnownCACertificates": "System"}},
        "backendTLSPolicy.hostname: \"*.example.com\" is not a DNS name of lowercase letters, digits, '-' and '.' "
        "(no wildcard), such as app.apps.svc.cluster.local"),
    "a BackendTLSPolicy needs a CA": (
        {"backendTLSPolicy": {"enabled": True, "hostname": "app.example.com"}},
        "backendTLSPolicy.caCertificateRefs: the Gateway needs a CA to check the backend's certificate; name "
        "ConfigMaps holding it (key ca.crt), or set wellKnownCACertificates: System"),
    "a BackendTLSPolicy trusts one CA source": (
        {"backendTLSPolicy": {"enabled": True, "hostname": "app.example.com", "wellKnownCACertificates": "System",
                              "caCertificateRefs": ["app-ca"]}},
        "backendTLSPolicy: set caCertificateRefs or wellKnownCACertificates, not both"),
    "a BackendTLSPolicy port is a Service port": (
        {"backendTLSPolicy": {"enabled": True, "hostname": "app.example.com", "wellKnownCACertificates": "System",
                              "ports": ["https"]}},
        'backendTLSPolicy.ports[0]: "https" is not a port name of the Service (service.ports: http); use one of '
        "those names"),
    "a BackendTLSPolicy needs the Service": (
        {"service": {"enabled": False},
         "backendTLSPolicy": {"enabled": True, "hostname": "app.example.com", "wellKnownCACertificates": "System"}},
        "backendTLSPolicy.enabled: it applies to this release's Service, and service.enabled is false; enable the "
        "Service or set backendTLSPolicy.enabled: false"),
    "a ListenerSet needs listeners": (
        {"listenerSet": {"enabled": True}, "expose": {"hosts": []}},
        "listenerSet.listeners: empty, and expose.hosts has no host to make listeners from; add listeners such as "
        "[{name: http, port: 80, protocol: HTTP, hostname: app.example.com}]"),
    "ListenerSet listener names unique": (
        {"listenerSet": {"enabled": True, "listeners": [{"name": "web", "port": 80, "protocol": "HTTP"},
                                                        {"name": "web", "port": 8080, "protocol": "HTTP"}]}},
        'listenerSet.listeners[1].name: "web" is used twice; each listener needs its own name'),
    # A third item: helm's --api-versions, what a cluster's discovery tells helm on install and upgrade.
    "a cluster whose Gateway API lacks ListenerSet": (
        {"listenerSet": {"enabled": True}},
        "listenerSet.enabled: this cluster serves Gateway API without ListenerSet (it came in Gateway API 1.5's "
        "standard channel); install newer Gateway API CRDs, or set listenerSet.enabled: false",
        ["--api-versions", "gateway.networking.k8s.io/v1"]),
    "KEDA and the HPA": (
        {"keda": {"scaledObject": {"enabled": True, "triggers": [CPU_TRIGGER]}}, "autoscaling": {"enabled": True}},
        "keda.scaledObject.enabled: KEDA makes its own HorizontalPodAutoscaler for the workload, and "
        "autoscaling.enabled renders a second one that would fight it over the replicas; set autoscaling.enabled: "
        "false"),
    "KEDA on a DaemonSet": (
        {"workload": {"kind": "DaemonSet"}, "keda": {"scaledObject": {"enabled": True, "triggers": [CPU_TRIGGER]}}},
        "keda.scaledObject.enabled: a ScaledObject scales a Deployment or a StatefulSet, not a DaemonSet; set it to "
        "false (KEDA's ScaledJob runs Jobs from a queue)"),
    "KEDA needs triggers": (
        {"keda": {"scaledObject": {"enabled": True}}},
        'keda.scaledObject.triggers: required: what KEDA scales on, such as [{type: cpu, metricType: Utilization, '
        'metadata: {value: "70"}}]'),
    "KEDA bounds in order": (
        {"keda": {"scaledObject": {"enabled": True, "triggers": [CPU_TRIGGER], "minReplicaCount": 20}}},
        "keda.scaledObject.minReplicaCount: 20 is above maxReplicaCount (10); raise maxReplicaCount or lower "
        "minReplicaCount"),
    "a VPA that sets requests beside the HPA": (
        {"verticalPodAutoscaler": {"enabled": True}, "autoscaling": {"enabled": True}},
        "verticalPodAutoscaler.updateMode: Recreate sets the cpu requests the HorizontalPodAutoscaler "
        '(autoscaling.enabled) scales on, so the two would fight; set it to "Off" (recommendations only), leave cpu '
        "out of verticalPodAutoscaler.controlledResources, or turn one of them off"),
    "a VPA for a Job": (
        {"workload": {"kind": "Job"}, "verticalPodAutoscaler": {"enabled": True}},
        "verticalPodAutoscaler.enabled: each release revision runs a new Job of another name, so the VPA's target "
        "would be gone at the next upgrade; set it to false (a CronJob keeps its name, and a VPA can follow it)"),
    "KEDA to zero on cpu alone": (
        {"keda": {"scaledObject": {"enabled": True, "minReplicaCount": 0, "triggers": [CPU_TRIGGER]}}},
        "keda.scaledObject.minReplicaCount: 0 needs a trigger other than cpu or memory: with no pod there is no use "
        "to measure, so nothing would wake the workload (KEDA refuses it); set minReplicaCount: 1 or add an event "
        "trigger such as prometheus"),
    "ReadWriteOncePod alone": (
        {"replicaCount": 1, "persistence": {"data": dict(DATA, accessModes=["ReadWriteOncePod", "ReadWriteMany"])}},
        "persistence.data.accessModes: ReadWriteOncePod cannot be combined with other modes (the API server refuses "
        "it); use it alone"),
    "a claim template's name": (
        {"workload": {"kind": "StatefulSet"}, "replicaCount": 1, "persistence": {"data": DATA},
         "statefulSet": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}]}},
        'persistence.data: the volume name "data" is already used by statefulSet.volumeClaimTemplates[0]; give this '
        "entry another name"),
    "a BackendTLSPolicy for a Job without its Service": (
        {"workload": {"kind": "Job"},
         "backendTLSPolicy": {"enabled": True, "hostname": "app.example.com", "wellKnownCACertificates": "System"}},
        "backendTLSPolicy.enabled: a Job gets no Service unless job.service is true, so there is nothing to apply it "
        "to; set job.service: true or backendTLSPolicy.enabled: false"),
    "a route the ListenerSet cannot take": (
        {"listenerSet": {"enabled": True}, "tcpRoute": {"enabled": True}},
        "listenerSet.attachRoutes: the TCPRoute (tcpRoute) would attach to the ListenerSet, which has no TCP listener "
        "(it has HTTP); add one to listenerSet.listeners, or set attachRoutes: false to keep tcpRoute.parentRefs"),
    "an RBAC rule for nothing": (
        {"rbac": {"rules": [{"verbs": ["get"]}]}, **TOKEN},
        "rbac.rules[0]: names neither resources nor nonResourceURLs; add resources (such as [configmaps]) and their "
        "apiGroups"),
}

REJECTIONS = {**HELM_SCHEMA, **CHECKS, **CROSS_FIELD}



GROUPS = (
    ("Checked by helm's schema", "Types, choices and required keys: helm's own messages, before any template runs.",
     HELM_SCHEMA),
    ("Checked by the chart: keys, formats and ranges",
     "Unknown keys (with a did-you-mean), formats, ranges, lengths and item counts from `values.schema.yaml`. "
     "All problems are reported at once.", CHECKS),
    ("Checked by the chart: rules across keys", "What one key allows depends on another.", CROSS_FIELD),
)


def markdown() -> str:
    out = [START, "", "## When values are rejected", "",
           "Every rejection names the key, says what is wrong and what to do. helm prefixes the chart's own",
           "messages with `execution error at (portico/templates/…)`. These are the messages, exactly as helm 4",
           "and helm 3 print them (`tests/chart/test_rejections.py` checks each one):", ""]
    for title, about, table in GROUPS:
        out += [f"### {title}", "", about, "", "| Values | Message |", "|---|---|"]
        for values, message, *cluster in table.values():
            cells = (json.dumps(values), "<br>".join(f"`{line.strip()}`" for line in message.splitlines()))
            assert not any("|" in cell for cell in cells), cells
            served = f" on a cluster serving only `{cluster[0][1]}`" if cluster else ""
            out.append(f"| `{cells[0]}`{served} | {cells[1]} |")
        out.append("")
    return "\n".join([*out, END])


def update(template: Path = CHART / "README.md.gotmpl") -> bool:
    text = template.read_text()
    head, _, tail = text.partition(START)
    _, _, tail = tail.partition(END)
    new = head + markdown() + tail
    template.write_text(new)
    return new != text


if __name__ == "__main__":
    sys.exit(0 if update() is not None else 1)
