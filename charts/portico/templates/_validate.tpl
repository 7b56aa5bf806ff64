{{/*
Cross-field rules that JSON Schema cannot express. Each `fail` names the key
path, what it holds and what was expected. Rules the schema can express live
in values.schema.json.
*/}}
{{- define "portico.validate" -}}
{{- $v := .Values }}
{{- if eq $v.workload.kind "DaemonSet" }}
{{- if $v.autoscaling.enabled }}
{{- fail "autoscaling.enabled: a DaemonSet runs one pod per node and cannot be autoscaled; set it to false (or use workload.kind Deployment)" }}
{{- end }}
{{- end }}
{{- $kind := $v.workload.kind }}
{{- if and (eq $v.strategy.type "Recreate") (has $kind (list "StatefulSet" "DaemonSet")) }}
{{- fail (printf "strategy.type: a %s updates with RollingUpdate or OnDelete, not Recreate" $kind) }}
{{- end }}
{{- if and (eq $v.strategy.type "OnDelete") (eq $kind "Deployment") }}
{{- fail "strategy.type: a Deployment updates with RollingUpdate or Recreate; OnDelete is for a StatefulSet or a DaemonSet" }}
{{- end }}
{{- if and (not (kindIs "invalid" (dig "partition" nil ($v.strategy.rollingUpdate | default dict)))) (has $kind (list "Deployment" "DaemonSet")) }}
{{- fail (printf "strategy.rollingUpdate.partition: only a StatefulSet has partitions; a %s takes maxSurge and maxUnavailable" $kind) }}
{{- end }}
{{- if has $v.workload.kind (list "Job" "CronJob") }}
{{- $kind := $v.workload.kind }}
{{- if $v.autoscaling.enabled }}
{{- fail (printf "autoscaling.enabled: a %s runs pods to completion and cannot be autoscaled; set it to false (job.parallelism runs several at once)" $kind) }}
{{- end }}
{{- if eq (toString $v.podDisruptionBudget.enabled) "true" }}
{{- fail (printf "podDisruptionBudget.enabled: a %s's pods run to completion, so a PodDisruptionBudget has nothing to keep available; set it to auto or false" $kind) }}
{{- end }}
{{- if and $v.expose.via (not $v.job.service) }}
{{- fail (printf "expose.via: a %s serves no traffic unless asked; set job.service: true to give it its Services, or empty expose.via" $kind) }}
{{- end }}
{{- if and (eq $kind "CronJob") (not $v.cronJob.schedule) }}
{{- fail "cronJob.schedule: required for workload.kind CronJob: a cron expression such as \"*/15 * * * *\"" }}
{{- end }}
{{- end }}
{{- with $v.strategy.rollingUpdate }}
{{- if and (has (toString .maxSurge) (list "0" "0%")) (has (toString .maxUnavailable) (list "0" "0%")) }}
{{- fail "strategy.rollingUpdate: maxSurge and maxUnavailable cannot both be 0: the rollout could never make progress; set maxSurge to 1 (the default) or maxUnavailable above 0" }}
{{- end }}
{{- end }}
{{- if and $v.expose.via (not $v.expose.hosts) }}
{{- fail (printf "expose.hosts: expose.via (%s) needs at least one host, such as [{host: app.example.com, paths: [{path: /}]}]" (join ", " $v.expose.via)) }}
{{- end }}
{{- /* An ExternalName main Service is an alias: it selects no pods, so there is nothing to ask for. */}}
{{- if and (eq $v.workload.kind "None") (not $v.workload.selector) (not (and $v.service.enabled (eq (toString $v.service.type) "ExternalName"))) }}
{{- fail "workload.selector: required when workload.kind is None (service-only mode needs the labels of the pods to expose)" }}
{{- end }}
{{- if kindIs "slice" $v.env }}
{{- $envNames := list }}
{{- range $i, $e := $v.env }}
{{- if has $e.name $envNames }}
{{- fail (printf "env[%d].name: %q is set twice; set each variable once (server-side apply, helm 4's default, refuses duplicates)" $i $e.name) }}
{{- end }}
{{- $envNames = append $envNames $e.name }}
{{- end }}
{{- end }}
{{- $containerPorts := list }}
{{- range $i, $p := $v.ports }}
{{- if has $p.name $containerPorts }}
{{- fail (printf "ports[%d].name: %q is used twice; container port names must be unique" $i $p.name) }}
{{- end }}
{{- $containerPorts = append $containerPorts $p.name }}
{{- end }}
{{- range $kind := list "readiness" "liveness" "startup" }}
{{- $probe := index $v.probes $kind }}
{{- if $probe.enabled }}
{{- $port := "" }}
{{- range $handler := list "httpGet" "tcpSocket" "grpc" }}
{{- with (get ($probe.spec | default dict) $handler) }}{{ $port = .port }}{{ end }}
{{- end }}
{{- if and (kindIs "string" $port) $port (not (has $port $containerPorts)) }}
{{- fail (printf "probes.%s.spec: port %q is not a container port name (ports: %s); use one of those names or a port number" $kind $port (join ", " $containerPorts)) }}
{{- end }}
{{- end }}
{{- end }}
{{- $preStop := $v.lifecycle.preStop }}
{{- if and (ne $preStop.mode "none") (le (int $v.terminationGracePeriodSeconds) (int $preStop.seconds)) }}
{{- fail (printf "terminationGracePeriodSeconds: %v must exceed lifecycle.preStop.seconds (%v), or the pod is killed before it drains" $v.terminationGracePeriodSeconds $preStop.seconds) }}
{{- end }}
{{- if $v.autoscaling.enabled }}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) }}
{{- fail (printf "autoscaling.minReplicas: %v is above autoscaling.maxReplicas (%v); raise maxReplicas or lower minReplicas" $v.autoscaling.minReplicas $v.autoscaling.maxReplicas) }}
{{- end }}
{{- if and (not $v.autoscaling.targetCPUUtilizationPercentage) (not $v.autoscaling.targetMemoryUtilizationPercentage) }}
{{- fail "autoscaling: enabled but neither targetCPUUtilizationPercentage nor targetMemoryUtilizationPercentage is set; set one, such as targetCPUUtilizationPercentage: 80" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Per-Service rules. Args: dict "root" $ "svc" <spec> "where" <key path>. */}}
{{- define "portico.validateService" -}}
{{- $root := .root }}
{{- $s := .svc }}
{{- $range := $root.Values.nodePortRange }}
{{- $containerPorts := list }}
{{- range $root.Values.ports }}{{ $containerPorts = append $containerPorts .name }}{{ end }}
{{- $type := $s.type | default "ClusterIP" }}
{{- $external := has $type (list "NodePort" "LoadBalancer") }}
{{- if and (eq $type "ExternalName") (not $s.externalName) }}
{{- fail (printf "%s.externalName: required when %s.type is ExternalName: the DNS name the Service points to, such as db.example.com" $.where $.where) }}
{{- end }}
{{- if and (eq $type "ExternalName") (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" $s.externalName)) }}
{{- fail (printf "%s.externalName: %q is not a DNS name of lowercase letters, digits, '-' and '.', such as db.example.com" $.where $s.externalName) }}
{{- end }}
{{- if and (eq (toString $s.clusterIP) "None") (ne $type "ClusterIP") }}
{{- fail (printf "%s.type: a headless Service (clusterIP None) must have type ClusterIP, not %s; drop clusterIP: None or set type: ClusterIP" $.where $type) }}
{{- end }}
{{- if and $s.externalTrafficPolicy (not $external) }}
{{- fail (printf "%s.externalTrafficPolicy: only a NodePort or LoadBalancer Service has one (type is %s); remove it or change the type" $.where $type) }}
{{- end }}
{{- if ne $type "LoadBalancer" }}
{{- range $key := list "loadBalancerClass" "loadBalancerSourceRanges" "allocateLoadBalancerNodePorts" }}
{{- if not (kindIs "invalid" (get $s $key)) }}{{ if or (kindIs "bool" (get $s $key)) (get $s $key) }}
{{- fail (printf "%s.%s: only a LoadBalancer Service takes it (type is %s); remove it or set type: LoadBalancer" $.where $key $type) }}
{{- end }}{{ end }}
{{- end }}
{{- end }}
{{- if and $s.sessionAffinityTimeoutSeconds (ne (toString $s.sessionAffinity) "ClientIP") }}
{{- fail (printf "%s.sessionAffinityTimeoutSeconds: only applies with sessionAffinity: ClientIP; set that too or remove the timeout" $.where) }}
{{- end }}
{{- $names := list }}
{{- range $i, $p := $s.ports }}
{{- if and $p.nodePort (not $external) }}
{{- fail (printf "%s.ports[%d].nodePort: only a NodePort or LoadBalancer Service has node ports (type is %s); remove it or change the type" $.where $i $type) }}
{{- end }}
{{- if and $p.nodePort (or (lt (int $p.nodePort) (int $range.min)) (gt (int $p.nodePort) (int $range.max))) }}
{{- fail (printf "%s.ports[%d].nodePort: %v is outside nodePortRange %v-%v (set nodePortRange if your cluster uses another --service-node-port-range)" $.where $i $p.nodePort $range.min $range.max) }}
{{- end }}
{{- if and (gt (len $s.ports) 1) (not $p.name) }}
{{- fail (printf "%s.ports[%d].name: required when a Service has several ports; give each a name such as http or metrics" $.where $i) }}
{{- end }}
{{- if and $p.name (has $p.name $names) }}
{{- fail (printf "%s.ports[%d].name: %q is used twice; Service port names must be unique" $.where $i $p.name) }}
{{- end }}
{{- $names = append $names $p.name }}
{{- if and (kindIs "string" $p.targetPort) (ne $root.Values.workload.kind "None") (ne $s.type "ExternalName") (not (has $p.targetPort $containerPorts)) }}
{{- fail (printf "%s.ports[%d].targetPort: %q is not a container port name (ports: %s); use one of those names or a port number" $.where $i $p.targetPort (join ", " $containerPorts)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* TLS hosts must be among the hosts they secure. Args: dict "tls" <tls> "hosts" <hosts> "where" <key path>. */}}
{{- define "portico.validateTlsHosts" -}}
{{- $ruleHosts := list }}
{{- range .hosts }}{{ $ruleHosts = append $ruleHosts .host }}{{ end }}
{{- range $i, $h := (.tls | default dict).hosts }}
{{- if not (has $h $ruleHosts) }}
{{- fail (printf "%s.tls.hosts[%d]: %q is not one of the hosts (%s); add it to the hosts or remove it from tls.hosts" $.where $i $h (join ", " $ruleHosts)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* persistence.<name>: what each type takes, names and paths used once, and claims the pods can all mount. */}}
{{- define "portico.validatePersistence" -}}
{{- $v := .Values }}
{{- $names := dict }}
{{- $paths := dict }}
{{- if $v.tmpVolume.enabled }}{{ $_ := set $names "tmp" "tmpVolume" }}{{ $_ := set $paths $v.tmpVolume.mountPath "tmpVolume" }}{{ end }}
{{- if and $v.configMap.enabled $v.configMap.mountPath }}{{ $_ := set $names "config" "configMap" }}{{ $_ := set $paths $v.configMap.mountPath "configMap" }}{{ end }}
{{- if and $v.secret.enabled $v.secret.mountPath }}{{ $_ := set $names "secret" "secret" }}{{ $_ := set $paths $v.secret.mountPath "secret" }}{{ end }}
{{- range $i, $vol := $v.volumes }}{{ $_ := set $names (toString $vol.name) (printf "volumes[%d]" $i) }}{{ end }}
{{- if eq $v.workload.kind "StatefulSet" }}
{{- /* A claim template's name replaces the pod volume of that name (the StatefulSet controller does it). */}}
{{- range $i, $tpl := $v.statefulSet.volumeClaimTemplates }}{{ $_ := set $names (toString (dig "metadata" "name" "" $tpl)) (printf "statefulSet.volumeClaimTemplates[%d]" $i) }}{{ end }}
{{- end }}
{{- range $i, $m := $v.volumeMounts }}{{ $_ := set $paths (toString $m.mountPath) (printf "volumeMounts[%d]" $i) }}{{ end }}
{{- $pods := include "portico.podsAtOnce" . }}
{{- range $name, $p := $v.persistence }}
{{- if ne (toString $p.enabled) "false" }}
{{- $at := printf "persistence.%s" $name }}
{{- if not (include "portico.hasWorkload" $) }}
{{- fail (printf "%s: this release runs no pods (workload.kind None or an ExternalName Service), so nothing would mount it; remove it" $at) }}
{{- end }}
{{- with get $names $name }}
{{- fail (printf "%s: the volume name %q is already used by %s; give this entry another name" $at $name .) }}
{{- end }}
{{- with get $paths $p.mountPath }}
{{- fail (printf "%s.mountPath: %s is also where %s is mounted; give each volume its own path" $at $p.mountPath .) }}
{{- end }}
{{- $_ := set $names $name $at }}
{{- $_ := set $paths $p.mountPath $at }}
{{- $created := and (eq $p.type "pvc") (not $p.existingClaim) }}
{{- range $key := list "size" "accessModes" "storageClass" "retain" "annotations" }}
{{- if and (hasKey $p $key) (not $created) }}
{{- fail (printf "%s.%s: only a claim the chart creates (type pvc without existingClaim) takes it; remove it" $at $key) }}
{{- end }}
{{- end }}
{{- $only := dict "existingClaim" (list "pvc") "name" (list "configMap" "secret") "defaultMode" (list "configMap" "secret") "medium" (list "emptyDir") "sizeLimit" (list "emptyDir") }}
{{- range $key, $types := $only }}
{{- if and (hasKey $p $key) (not (has $p.type $types)) }}
{{- fail (printf "%s.%s: only type %s takes it (type is %s); remove it or change the type" $at $key (join " or " $types) $p.type) }}
{{- end }}
{{- end }}
{{- if and $created (not $p.size) }}
{{- fail (printf "%s.size: required for a claim the chart creates, such as 1Gi (or set existingClaim to mount a claim that exists)" $at) }}
{{- end }}
{{- if and (has $p.type (list "configMap" "secret")) (not $p.name) }}
{{- fail (printf "%s.name: required for type %s: the name of the %s to mount" $at $p.type $p.type) }}
{{- end }}
{{- if $created }}
{{- include "portico.validateAccessModes" (dict "root" $ "at" $at "modes" ($p.accessModes | default (list "ReadWriteOnce")) "pods" $pods) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* A created claim's access modes against the pods that mount it at once. Args: root, at, modes, pods. */}}
{{- define "portico.validateAccessModes" -}}
{{- $v := .root.Values }}
{{- if and (has "ReadWriteOncePod" .modes) (gt (len .modes) 1) }}
{{- fail (printf "%s.accessModes: ReadWriteOncePod cannot be combined with other modes (the API server refuses it); use it alone" .at) }}
{{- end }}
{{- $shared := or (has "ReadWriteMany" .modes) (has "ReadOnlyMany" .modes) }}
{{- if and (not $shared) .pods }}
{{- $where := ternary "by one pod only" "on one node only" (has "ReadWriteOncePod" .modes) }}
{{- fail (printf "%s.accessModes: a %s claim can be mounted %s, and %s; use ReadWriteMany (with a storage class that offers it), a single pod, or a StatefulSet's statefulSet.volumeClaimTemplates for a claim per pod" .at (first .modes) $where .pods) }}
{{- end }}
{{- $surge := and (eq $v.workload.kind "Deployment") (eq $v.strategy.type "RollingUpdate") (not (has (toString (dig "maxSurge" "" ($v.strategy.rollingUpdate | default dict))) (list "0" "0%"))) }}
{{- if and (has "ReadWriteOncePod" .modes) (not $shared) $surge }}
{{- fail (printf "%s.accessModes: ReadWriteOncePod lets one pod mount the claim, so a rolling update's new pod would wait for the old one, which stays until the new one is ready; set strategy.type: Recreate (the pod is down while it restarts) or use ReadWriteOnce" .at) }}
{{- end }}
{{- end }}

{{/* Why more than one pod runs at once, in words ("" when one does). */}}
{{- define "portico.podsAtOnce" -}}
{{- $v := .Values }}
{{- $kind := $v.workload.kind }}
{{- if eq $kind "DaemonSet" }}a DaemonSet runs a pod on every node
{{- else if and (has $kind (list "Deployment" "StatefulSet")) $v.autoscaling.enabled (gt (int $v.autoscaling.maxReplicas) 1) }}the autoscaler may run up to {{ $v.autoscaling.maxReplicas }} replicas (autoscaling.maxReplicas)
{{- else if and (has $kind (list "Deployment" "StatefulSet")) $v.keda.scaledObject.enabled (gt (int $v.keda.scaledObject.maxReplicaCount) 1) }}KEDA may run up to {{ $v.keda.scaledObject.maxReplicaCount }} replicas (keda.scaledObject.maxReplicaCount)
{{- else if and (has $kind (list "Deployment" "StatefulSet")) (not (include "portico.autoscaled" .)) (gt (int $v.replicaCount) 1) }}the {{ $kind }} runs {{ $v.replicaCount }} replicas (replicaCount)
{{- else if and (has $kind (list "Job" "CronJob")) (gt (int $v.job.parallelism) 1) }}the {{ $kind }} runs {{ $v.job.parallelism }} pods at once (job.parallelism)
{{- end }}
{{- end }}

{{/* rbac.rules: rights the pod can use, for the release's own ServiceAccount, as the API server accepts them. */}}
{{- define "portico.validateRbac" -}}
{{- $v := .Values }}
{{- if $v.rbac.rules }}
{{- if not (include "portico.hasWorkload" .) }}
{{- fail "rbac.rules: this release runs no pods (workload.kind None or an ExternalName Service), so nothing would use them; remove them" }}
{{- end }}
{{- if and (not $v.serviceAccount.create) (not $v.serviceAccount.name) }}
{{- fail "rbac.rules: they would be granted to the namespace's default ServiceAccount, which every pod without its own runs as; set serviceAccount.create: true or name a ServiceAccount in serviceAccount.name" }}
{{- end }}
{{- $projected := false }}
{{- range $v.volumes }}{{ range (dig "projected" "sources" list .) }}{{ if .serviceAccountToken }}{{ $projected = true }}{{ end }}{{ end }}{{ end }}
{{- if and (not $v.serviceAccount.automountServiceAccountToken) (not $projected) }}
{{- fail "rbac.rules: the pod gets no API token to use them (serviceAccount.automountServiceAccountToken is false); set it to true, or mount a projected serviceAccountToken in volumes" }}
{{- end }}
{{- range $i, $r := $v.rbac.rules }}
{{- if and $r.nonResourceURLs (or $r.resources $r.apiGroups $r.resourceNames) }}
{{- fail (printf "rbac.rules[%d]: a rule grants resources (apiGroups, resources, resourceNames) or nonResourceURLs, not both; split it in two" $i) }}
{{- else if and (not $r.resources) (not $r.nonResourceURLs) }}
{{- fail (printf "rbac.rules[%d]: names neither resources nor nonResourceURLs; add resources (such as [configmaps]) and their apiGroups" $i) }}
{{- else if and $r.resources (not $r.apiGroups) }}
{{- fail (printf "rbac.rules[%d].apiGroups: required with resources; use [\"\"] for the core group (pods, configmaps, secrets) or the resources' group, such as apps" $i) }}
{{- else if and $r.nonResourceURLs (not $v.rbac.clusterWide) }}
{{- fail (printf "rbac.rules[%d].nonResourceURLs: only a ClusterRole grants them; set rbac.clusterWide: true or remove them" $i) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* listenerSet and backendTLSPolicy: what the Gateway needs to use them. */}}
{{- define "portico.validateGatewayExtras" -}}
{{- $v := .Values }}
{{- with $v.backendTLSPolicy }}
{{- if .enabled }}
{{- if not $v.service.enabled }}
{{- fail "backendTLSPolicy.enabled: it applies to this release's Service, and service.enabled is false; enable the Service or set backendTLSPolicy.enabled: false" }}
{{- end }}
{{- if and (include "portico.isBatch" $) (not $v.job.service) }}
{{- fail (printf "backendTLSPolicy.enabled: a %s gets no Service unless job.service is true, so there is nothing to apply it to; set job.service: true or backendTLSPolicy.enabled: false" $v.workload.kind) }}
{{- end }}
{{- if not .hostname }}
{{- fail "backendTLSPolicy.hostname: required: the name the backend's certificate is issued for, which the Gateway sends as SNI, such as app.apps.svc.cluster.local" }}
{{- else if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" .hostname) }}
{{- fail (printf "backendTLSPolicy.hostname: %q is not a DNS name of lowercase letters, digits, '-' and '.' (no wildcard), such as app.apps.svc.cluster.local" .hostname) }}
{{- end }}
{{- if and .caCertificateRefs .wellKnownCACertificates }}
{{- fail "backendTLSPolicy: set caCertificateRefs or wellKnownCACertificates, not both" }}
{{- else if not (or .caCertificateRefs .wellKnownCACertificates) }}
{{- fail "backendTLSPolicy.caCertificateRefs: the Gateway needs a CA to check the backend's certificate; name ConfigMaps holding it (key ca.crt), or set wellKnownCACertificates: System" }}
{{- end }}
{{- $names := list }}
{{- range $v.service.ports }}{{ $names = append $names (toString .name) }}{{ end }}
{{- range $i, $port := .ports }}
{{- if not (has $port $names) }}
{{- fail (printf "backendTLSPolicy.ports[%d]: %q is not a port name of the Service (service.ports: %s); use one of those names" $i $port (join ", " $names)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- with $v.listenerSet }}
{{- if .enabled }}
{{- if and (not .listeners) (not $v.expose.hosts) }}
{{- fail "listenerSet.listeners: empty, and expose.hosts has no host to make listeners from; add listeners such as [{name: http, port: 80, protocol: HTTP, hostname: app.example.com}]" }}
{{- end }}
{{- if .attachRoutes }}
{{- $protocols := list }}
{{- range (include "portico.listenerSetListeners" $ | fromJsonArray) }}{{ $protocols = append $protocols (toString .protocol) }}{{ end }}
{{- $accepts := include "portico.routeProtocols" $ | fromJson }}
{{- $routes := dict "httpRoute" (and (has "httpRoute" $v.expose.via) "HTTPRoute") "grpcRoute" (and $v.grpcRoute.enabled "GRPCRoute") "tlsRoute" (and $v.tlsRoute.enabled "TLSRoute") "tcpRoute" (and $v.tcpRoute.enabled "TCPRoute") "udpRoute" (and $v.udpRoute.enabled "UDPRoute") }}
{{- range $key, $kind := $routes }}
{{- if $kind }}
{{- $fits := false }}
{{- range (get $accepts $kind) }}{{ if has . $protocols }}{{ $fits = true }}{{ end }}{{ end }}
{{- if not $fits }}
{{- fail (printf "listenerSet.attachRoutes: the %s (%s) would attach to the ListenerSet, which has no %s listener (it has %s); add one to listenerSet.listeners, or set attachRoutes: false to keep %s.parentRefs" $kind $key (join " or " (get $accepts $kind)) (join ", " (uniq $protocols)) $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $seen := list }}
{{- range $i, $l := .listeners }}
{{- if has $l.name $seen }}
{{- fail (printf "listenerSet.listeners[%d].name: %q is used twice; each listener needs its own name" $i $l.name) }}
{{- end }}
{{- $seen = append $seen $l.name }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* verticalPodAutoscaler and keda.scaledObject: one owner for the replicas, one for the requests. */}}
{{- define "portico.validateAutoscalers" -}}
{{- $v := .Values }}
{{- $kind := $v.workload.kind }}
{{- $so := $v.keda.scaledObject }}
{{- if and $so.enabled (include "portico.hasWorkload" .) }}
{{- if $v.autoscaling.enabled }}
{{- fail "keda.scaledObject.enabled: KEDA makes its own HorizontalPodAutoscaler for the workload, and autoscaling.enabled renders a second one that would fight it over the replicas; set autoscaling.enabled: false" }}
{{- end }}
{{- if not (has $kind (list "Deployment" "StatefulSet")) }}
{{- fail (printf "keda.scaledObject.enabled: a ScaledObject scales a Deployment or a StatefulSet, not a %s; set it to false (KEDA's ScaledJob runs Jobs from a queue)" $kind) }}
{{- end }}
{{- if not $so.triggers }}
{{- fail "keda.scaledObject.triggers: required: what KEDA scales on, such as [{type: cpu, metricType: Utilization, metadata: {value: \"70\"}}]" }}
{{- end }}
{{- $events := list }}
{{- range $so.triggers }}{{ if not (has (toString .type) (list "cpu" "memory")) }}{{ $events = append $events .type }}{{ end }}{{ end }}
{{- if and (eq (int $so.minReplicaCount) 0) (not $events) }}
{{- fail "keda.scaledObject.minReplicaCount: 0 needs a trigger other than cpu or memory: with no pod there is no use to measure, so nothing would wake the workload (KEDA refuses it); set minReplicaCount: 1 or add an event trigger such as prometheus" }}
{{- end }}
{{- if gt (int $so.minReplicaCount) (int $so.maxReplicaCount) }}
{{- fail (printf "keda.scaledObject.minReplicaCount: %v is above maxReplicaCount (%v); raise maxReplicaCount or lower minReplicaCount" $so.minReplicaCount $so.maxReplicaCount) }}
{{- end }}
{{- end }}
{{- $vpa := $v.verticalPodAutoscaler }}
{{- if and $vpa.enabled (include "portico.hasWorkload" .) }}
{{- if eq $kind "Job" }}
{{- fail "verticalPodAutoscaler.enabled: each release revision runs a new Job of another name, so the VPA's target would be gone at the next upgrade; set it to false (a CronJob keeps its name, and a VPA can follow it)" }}
{{- end }}
{{- /* The replicas' autoscaler and the VPA fight only over a resource both act on (the VPA docs' rule). */}}
{{- $scaledOn := list }}
{{- if $v.autoscaling.enabled }}
{{- if $v.autoscaling.targetCPUUtilizationPercentage }}{{ $scaledOn = append $scaledOn "cpu" }}{{ end }}
{{- if $v.autoscaling.targetMemoryUtilizationPercentage }}{{ $scaledOn = append $scaledOn "memory" }}{{ end }}
{{- else if $so.enabled }}
{{- range $so.triggers }}{{ if has (toString .type) (list "cpu" "memory") }}{{ $scaledOn = append $scaledOn (toString .type) }}{{ end }}{{ end }}
{{- end }}
{{- $both := list }}
{{- range $vpa.controlledResources }}{{ if has . $scaledOn }}{{ $both = append $both . }}{{ end }}{{ end }}
{{- if and (ne $vpa.updateMode "Off") $both }}
{{- fail (printf "verticalPodAutoscaler.updateMode: %s sets the %s requests the %s scales on, so the two would fight; set it to \"Off\" (recommendations only), leave %s out of verticalPodAutoscaler.controlledResources, or turn one of them off" $vpa.updateMode (join " and " $both) (ternary "HorizontalPodAutoscaler (autoscaling.enabled)" "KEDA ScaledObject (keda.scaledObject.enabled)" (and $v.autoscaling.enabled true)) (join " and " $both)) }}
{{- end }}
{{- end }}
{{- end }}
