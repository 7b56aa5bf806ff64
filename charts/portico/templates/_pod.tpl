{{/* The pod template shared by every workload kind. */}}
{{- define "portico.podTemplate" -}}
metadata:
  labels:
    {{- include "portico.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- $annotations := deepCopy (.Values.podAnnotations | default dict) }}
  {{- if .Values.configMap.enabled }}
  {{- $_ := set $annotations "checksum/config" (include (print $.Template.BasePath "/configmap.yaml") . | sha256sum) }}
  {{- end }}
  {{- if .Values.secret.enabled }}
  {{- $_ := set $annotations "checksum/secret" (include (print $.Template.BasePath "/secret.yaml") . | sha256sum) }}
  {{- end }}
  {{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "portico.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    {{- if kindIs "string" . }}
    - name: {{ . }}
    {{- else }}
    - {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- end }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- if include "portico.isBatch" . }}
  restartPolicy: {{ .Values.job.restartPolicy }}
  {{- end }}
  {{- with .Values.initContainers }}
  initContainers:
    {{- tpl (toYaml .) $ | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ include "portico.name" . }}
      image: {{ include "portico.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      {{- with .Values.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.args }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $env := .Values.env }}
      {{- if kindIs "map" $env }}
      {{- /* null unsets a variable (helm keeps nulls it has no default for) */}}
      {{- $set := dict }}
      {{- range $name, $value := $env }}{{ if not (kindIs "invalid" $value) }}{{ $_ := set $set $name $value }}{{ end }}{{ end }}
      {{- $env = $set }}
      {{- end }}
      {{- with $env }}
      env:
        {{- if kindIs "map" . }}
        {{- range $name, $value := . }}
        - name: {{ $name }}
          {{- if kindIs "map" $value }}
          {{- toYaml $value | nindent 10 }}
          {{- else }}
          value: {{ tpl (toString $value) $ | quote }}
          {{- end }}
        {{- end }}
        {{- else }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      {{- if or .Values.envFrom .Values.configMap.enabled }}
      {{- with .Values.envFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- end }}
      {{- with .Values.ports }}
      ports:
        {{- range . }}
        - name: {{ .name }}
          containerPort: {{ .containerPort }}
          protocol: {{ .protocol | default "TCP" }}
        {{- end }}
      {{- end }}
      {{- if .Values.probes.startup.enabled }}
      startupProbe:
        {{- toYaml .Values.probes.startup.spec | nindent 8 }}
      {{- end }}
      {{- if .Values.probes.readiness.enabled }}
      readinessProbe:
        {{- toYaml .Values.probes.readiness.spec | nindent 8 }}
      {{- end }}
      {{- if .Values.probes.liveness.enabled }}
      livenessProbe:
        {{- toYaml .Values.probes.liveness.spec | nindent 8 }}
      {{- end }}
      {{- $preStop := .Values.lifecycle.preStop }}
      {{- if or (ne $preStop.mode "none") .Values.lifecycle.postStart }}
      lifecycle:
        {{- if eq $preStop.mode "sleep" }}
        preStop:
          sleep:
            seconds: {{ $preStop.seconds }}
        {{- else if eq $preStop.mode "exec" }}
        preStop:
          exec:
            command:
              {{- toYaml $preStop.execCommand | nindent 14 }}
        {{- end }}
        {{- with .Values.lifecycle.postStart }}
        postStart:
          {{- toYaml . | nindent 10 }}
        {{- end }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $mounts := include "portico.volumeMounts" . | fromYamlArray }}
      {{- with $mounts }}
      volumeMounts:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- with .Values.extraContainers }}
    {{- tpl (toYaml .) $ | nindent 4 }}
    {{- end }}
  {{- $volumes := include "portico.volumes" . | fromYamlArray }}
  {{- with $volumes }}
  volumes:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $spread := include "portico.topologySpread" . | fromYamlArray }}
  {{- with $spread }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{- define "portico.volumeMounts" -}}
{{- $mounts := list }}
{{- if .Values.tmpVolume.enabled }}
{{- $mounts = append $mounts (dict "name" "tmp" "mountPath" .Values.tmpVolume.mountPath) }}
{{- end }}
{{- if and .Values.configMap.enabled .Values.configMap.mountPath }}
{{- $mounts = append $mounts (dict "name" "config" "mountPath" .Values.configMap.mountPath "readOnly" true) }}
{{- end }}
{{- if and .Values.secret.enabled .Values.secret.mountPath }}
{{- $mounts = append $mounts (dict "name" "secret" "mountPath" .Values.secret.mountPath "readOnly" true) }}
{{- end }}
{{- range $name, $p := .Values.persistence }}
{{- if ne (toString $p.enabled) "false" }}
{{- $mount := dict "name" (toString $name) "mountPath" $p.mountPath }}
{{- with $p.subPath }}{{ $_ := set $mount "subPath" . }}{{ end }}
{{- if $p.readOnly }}{{ $_ := set $mount "readOnly" true }}{{ end }}
{{- $mounts = append $mounts $mount }}
{{- end }}
{{- end }}
{{- toYaml (concat $mounts (.Values.volumeMounts | default list)) }}
{{- end }}

{{- define "portico.volumes" -}}
{{- $fullname := include "portico.fullname" . }}
{{- $vols := list }}
{{- if .Values.tmpVolume.enabled }}
{{- $empty := dict }}
{{- with .Values.tmpVolume.sizeLimit }}{{ $_ := set $empty "sizeLimit" . }}{{ end }}
{{- $vols = append $vols (dict "name" "tmp" "emptyDir" $empty) }}
{{- end }}
{{- if and .Values.configMap.enabled .Values.configMap.mountPath }}
{{- $vols = append $vols (dict "name" "config" "configMap" (dict "name" $fullname)) }}
{{- end }}
{{- if and .Values.secret.enabled .Values.secret.mountPath }}
{{- $vols = append $vols (dict "name" "secret" "secret" (dict "secretName" $fullname)) }}
{{- end }}
{{- range $name, $p := .Values.persistence }}
{{- if ne (toString $p.enabled) "false" }}
{{- $vols = append $vols (include "portico.persistenceVolume" (dict "root" $ "name" $name "p" $p) | fromJson) }}
{{- end }}
{{- end }}
{{- toYaml (concat $vols (.Values.volumes | default list)) }}
{{- end }}

{{/* The pod volume of one persistence entry, as JSON: names such as "no" or "0123" stay strings (YAML would
read them back as a boolean or an octal number). */}}
{{- define "portico.persistenceVolume" -}}
{{- $p := .p }}
{{- $vol := dict "name" (toString .name) }}
{{- if eq $p.type "pvc" }}
{{- $_ := set $vol "persistentVolumeClaim" (dict "claimName" (include "portico.claimName" (dict "root" .root "name" .name))) }}
{{- else if eq $p.type "emptyDir" }}
{{- $empty := dict }}
{{- with $p.medium }}{{ $_ := set $empty "medium" . }}{{ end }}
{{- with $p.sizeLimit }}{{ $_ := set $empty "sizeLimit" . }}{{ end }}
{{- $_ := set $vol "emptyDir" $empty }}
{{- else }}
{{- $source := dict (ternary "name" "secretName" (eq $p.type "configMap")) (toString $p.name) }}
{{- if not (kindIs "invalid" $p.defaultMode) }}{{ $_ := set $source "defaultMode" (int $p.defaultMode) }}{{ end }}
{{- $_ := set $vol $p.type $source }}
{{- end }}
{{- toJson $vol }}
{{- end }}

{{/* Preset and raw topology spread constraints; labelSelector defaults to the selector labels. */}}
{{- define "portico.topologySpread" -}}
{{- $selector := dict "matchLabels" (include "portico.selectorLabels" . | fromYaml) }}
{{- $keys := dict "zone" (list "topology.kubernetes.io/zone") "host" (list "kubernetes.io/hostname") "zone-and-host" (list "topology.kubernetes.io/zone" "kubernetes.io/hostname") "none" list }}
{{- $out := list }}
{{- range (get $keys .Values.topologySpread.preset) }}
{{- $out = append $out (dict "maxSkew" $.Values.topologySpread.maxSkew "topologyKey" . "whenUnsatisfiable" $.Values.topologySpread.whenUnsatisfiable "labelSelector" $selector) }}
{{- end }}
{{- range .Values.topologySpreadConstraints }}
{{- $c := deepCopy . }}
{{- if not $c.labelSelector }}{{ $_ := set $c "labelSelector" $selector }}{{ end }}
{{- $out = append $out $c }}
{{- end }}
{{- toYaml $out }}
{{- end }}
