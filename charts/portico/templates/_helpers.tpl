{{/*
Names, labels and the values normalised once for every template.
Selector labels are the name and the instance only: they never change across
chart versions, so an upgrade never touches an immutable selector.
*/}}

{{- define "portico.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portico.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "portico.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "portico.labels" -}}
helm.sh/chart: {{ include "portico.chart" . }}
{{ include "portico.selectorLabels" . }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* metadata.annotations body from commonAnnotations merged with a dict passed as .extra */}}
{{- define "portico.annotations" -}}
{{- $all := merge (deepCopy (.extra | default dict)) (.root.Values.commonAnnotations | default dict) }}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Standard metadata: name, namespace, labels (+ .labels), annotations (+ .annotations). */}}
{{- define "portico.metadata" -}}
name: {{ .name }}
{{- if not .clusterScoped }}
namespace: {{ .namespace | default .root.Release.Namespace }}
{{- end }}
labels:
  {{- include "portico.labels" .root | nindent 2 }}
  {{- with .labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- include "portico.annotations" (dict "root" .root "extra" .annotations) }}
{{- end }}

{{/* The pod selector: the selector labels, or workload.selector in service-only mode. */}}
{{- define "portico.podSelector" -}}
{{- if eq .Values.workload.kind "None" }}
{{- toYaml .Values.workload.selector }}
{{- else }}
{{- include "portico.selectorLabels" . }}
{{- end }}
{{- end }}

{{/* The name of the object that runs the pods (a CronJob's leaves room for its Jobs' suffix). */}}
{{- define "portico.workloadName" -}}
{{- if eq .Values.workload.kind "CronJob" }}{{ include "portico.fullname" . | trunc 52 | trimSuffix "-" }}
{{- else }}{{ include "portico.fullname" . }}{{ end }}
{{- end }}

{{/* The claim of persistence.<name>: its existingClaim, else <fullname>-<name>. */}}
{{- define "portico.claimName" -}}
{{- $p := get .root.Values.persistence .name }}
{{- $p.existingClaim | default (printf "%s-%s" (include "portico.fullname" .root) .name) }}
{{- end }}

{{- define "portico.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "portico.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "portico.image" -}}
{{- $repo := .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/* "true" when the release runs pods: not in service-only mode (workload.kind None), and not when the
main Service is an ExternalName alias for something outside the cluster. */}}
{{/* The spec of a Job (for workload.kind Job, and a CronJob's jobTemplate). */}}
{{- define "portico.jobSpec" -}}
{{- $j := .Values.job -}}
backoffLimit: {{ $j.backoffLimit }}
{{- range $field := list "completions" "parallelism" "activeDeadlineSeconds" "ttlSecondsAfterFinished" }}
{{- $value := index $j $field }}
{{- if not (kindIs "invalid" $value) }}
{{ $field }}: {{ $value }}
{{- end }}
{{- end }}
template:
  {{- include "portico.podTemplate" . | nindent 2 }}
{{- end }}

{{/* "true" for the kinds whose pods run to completion. */}}
{{- define "portico.isBatch" -}}
{{- if has .Values.workload.kind (list "Job" "CronJob") }}true{{ end }}
{{- end }}

{{- define "portico.hasWorkload" -}}
{{- $alias := and .Values.service.enabled (eq (toString .Values.service.type) "ExternalName") }}
{{- if and (ne .Values.workload.kind "None") (not $alias) }}true{{ end }}
{{- end }}

{{/* "true" when something other than replicaCount sets the replicas: the HPA or a KEDA ScaledObject. */}}
{{- define "portico.autoscaled" -}}
{{- if or .Values.autoscaling.enabled .Values.keda.scaledObject.enabled }}true{{ end }}
{{- end }}

{{/* "true" when a PodDisruptionBudget is rendered. */}}
{{- define "portico.pdbEnabled" -}}
{{- $pdb := .Values.podDisruptionBudget }}
{{- /* Not for pods that run to completion (Job, CronJob): nothing to keep available. */}}
{{- if and (include "portico.hasWorkload" .) (not (include "portico.isBatch" .)) }}
{{- if eq (toString $pdb.enabled) "true" }}true
{{- else if and (eq (toString $pdb.enabled) "auto") (ne .Values.workload.kind "DaemonSet") }}
{{- /* auto: not for a DaemonSet, whose pods node drains leave alone anyway */}}
{{- if or (include "portico.autoscaled" .) (gt (int (.Values.replicaCount | default 1)) 1) }}true{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Services, normalised: a list of {key, name, spec} with every default filled in.
The main Service is key "main"; additionalServices keep their key as a suffix.
An additional Service shares with the main one only what is not type-specific: the pod selector, its labels
(merged under its own) and, when it sets no ports, its ports by name without their nodePorts. Everything else
starts from the chart's defaults (a ClusterIP, no traffic policies, no load balancer fields, no session
affinity, no annotations): an internal Service never turns public because the main one is.
Returned as YAML under "services:" (templates use fromYaml).
*/}}
{{- define "portico.services" -}}
{{- $fullname := include "portico.fullname" . }}
services:
{{- /* A Job or CronJob serves no traffic unless job.service asks for its Services. */}}
{{- $serves := or (not (include "portico.isBatch" .)) .Values.job.service }}
{{- if and .Values.service.enabled $serves }}
  - key: main
    name: {{ .Values.service.nameOverride | default $fullname }}
    spec: {{- toYaml .Values.service | nindent 6 }}
{{- end }}
{{- range $key, $svc := (ternary $.Values.additionalServices dict $serves) }}
{{- $inherited := list }}
{{- range $.Values.service.ports }}{{ $inherited = append $inherited (omit . "nodePort") }}{{ end }}
{{- $spec := mergeOverwrite (dict "enabled" true "type" "ClusterIP") (deepCopy (omit $svc "ports" "labels")) }}
{{- $_ := set $spec "ports" ($svc.ports | default $inherited) }}
{{- $_ := set $spec "labels" (merge (deepCopy ($svc.labels | default dict)) ($.Values.service.labels | default dict)) }}
  - key: {{ $key }}
    name: {{ $svc.nameOverride | default (printf "%s-%s" $fullname $key | trunc 63 | trimSuffix "-") }}
    spec: {{- toYaml $spec | nindent 6 }}
{{- end }}
{{- end }}

{{/* The main Service name (routes default to it). */}}
{{- define "portico.serviceName" -}}
{{- .Values.service.nameOverride | default (include "portico.fullname" .) }}
{{- end }}

{{/* The main Service's first port name (or number when unnamed). */}}
{{- define "portico.defaultServicePort" -}}
{{- $first := first .Values.service.ports }}
{{- $first.name | default $first.port }}
{{- end }}

{{/*
Resolve a port reference (name or number) against the main Service ports.
"portico.servicePort" returns the port object as YAML; the two below pick a field.
Args: dict "root" $ "port" <ref> "where" <key path for errors>.
*/}}
{{- define "portico.servicePort" -}}
{{- $ref := toString .port }}
{{- $found := dict }}
{{- range .root.Values.service.ports }}
{{- if or (eq (toString .name) $ref) (eq (toString .port) $ref) }}{{ $found = . }}{{ end }}
{{- end }}
{{- if not $found }}
{{- fail (printf "%s: port %v is not a port of this release's Service (service.ports: %s); use one of those names or numbers" .where .port (include "portico.portNames" .root)) }}
{{- end }}
{{- toYaml $found }}
{{- end }}

{{- define "portico.servicePortNumber" -}}
{{- (include "portico.servicePort" . | fromYaml).port }}
{{- end }}

{{- define "portico.servicePortName" -}}
{{- $p := include "portico.servicePort" . | fromYaml }}
{{- $p.name | default $p.port }}
{{- end }}

{{- define "portico.portNames" -}}
{{- $names := list }}
{{- range .Values.service.ports }}{{ $names = append $names (toString (.name | default .port)) }}{{ end }}
{{- join ", " $names }}
{{- end }}

{{/* TLS hosts: expose.tls.hosts or every host. */}}
{{- define "portico.tlsHosts" -}}
{{- $hosts := .Values.expose.tls.hosts | default list }}
{{- if not $hosts }}
{{- range .Values.expose.hosts }}{{ $hosts = append $hosts .host }}{{ end }}
{{- end }}
{{- toYaml $hosts }}
{{- end }}

{{/*
Gateway API backendRef defaulting: no name -> this release's Service, no port -> its first port.
Args: dict "root" $ "ref" <backendRef> "where" <key path>.
*/}}
{{- define "portico.backendRef" -}}
{{- $ref := deepCopy .ref }}
{{- if not $ref.name }}
{{- $_ := set $ref "name" (include "portico.serviceName" .root) }}
{{- $_ := set $ref "port" (include "portico.servicePortNumber" (dict "root" .root "port" ($ref.port | default (include "portico.defaultServicePort" .root)) "where" .where) | int) }}
{{- end }}
{{- toYaml $ref }}
{{- end }}

{{/* Rules with defaulted backendRefs. Args: dict "root" $ "rules" <list> "where" <key path>. */}}
{{- define "portico.routeRules" -}}
{{- $rules := list }}
{{- range $i, $rule := .rules }}
{{- $r := deepCopy ($rule | default dict) }}
{{- $refs := list }}
{{- range $j, $ref := ($r.backendRefs | default (list dict)) }}
{{- $refs = append $refs (include "portico.backendRef" (dict "root" $.root "ref" $ref "where" (printf "%s[%d].backendRefs[%d]" $.where $i $j)) | fromYaml) }}
{{- end }}
{{- $_ := set $r "backendRefs" $refs }}
{{- $rules = append $rules $r }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

