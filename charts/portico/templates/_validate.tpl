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
