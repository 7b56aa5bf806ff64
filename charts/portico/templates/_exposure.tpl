{{/*
Exposure helpers: turn the shared `expose` description into Ingress, HTTPRoute
and Route pieces. A path's backend is {service: {name, port}}; an empty name
means this release's Service, whose port names are checked here.
*/}}

{{/* Ingress backend. Args: dict "root" $ "backend" <{service: {name, port}}> "where" <key path>. */}}
{{- define "portico.ingressBackend" -}}
{{- $svc := (.backend | default dict).service | default dict }}
{{- $port := $svc.port | default (include "portico.defaultServicePort" .root) }}
{{- if not $svc.name }}
{{- $_ := include "portico.servicePortNumber" (dict "root" .root "port" $port "where" (printf "%s.service.port" .where)) }}
{{- end }}
service:
  name: {{ $svc.name | default (include "portico.serviceName" .root) }}
  port:
    {{- if kindIs "string" $port }}
    name: {{ $port }}
    {{- else }}
    number: {{ $port }}
    {{- end }}
{{- end }}

{{/* Ingress spec rules + tls. Args: dict "root" $ "expose" <{hosts, tls}> "where" <key path>. */}}
{{- define "portico.ingressRules" -}}
{{- $root := .root }}
{{- $where := .where }}
{{- with .expose.hosts }}
rules:
  {{- range $h, $host := . }}
  - host: {{ $host.host | quote }}
    http:
      paths:
        {{- range $p, $path := $host.paths }}
        - path: {{ $path.path }}
          pathType: {{ $path.pathType | default "Prefix" }}
          backend:
            {{- include "portico.ingressBackend" (dict "root" $root "backend" $path "where" (printf "%s.hosts[%d].paths[%d]" $where $h $p)) | trim | nindent 12 }}
        {{- end }}
  {{- end }}
{{- end }}
{{- $tls := .expose.tls | default dict }}
{{- if $tls.enabled }}
tls:
  - secretName: {{ $tls.secretName | default (printf "%s-tls" (include "portico.fullname" $root)) }}
    hosts:
      {{- $hosts := $tls.hosts | default list }}
      {{- if not $hosts }}{{ range .expose.hosts }}{{ $hosts = append $hosts .host }}{{ end }}{{ end }}
      {{- toYaml $hosts | nindent 6 }}
{{- end }}
{{- end }}

{{/* cert-manager annotations for a tls block. */}}
{{- define "portico.tlsAnnotations" -}}
{{- $out := dict }}
{{- if .enabled }}
{{- with .clusterIssuer }}{{ $_ := set $out "cert-manager.io/cluster-issuer" . }}{{ end }}
{{- with .issuer }}{{ $_ := set $out "cert-manager.io/issuer" . }}{{ end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* Gateway API path match type from an Ingress pathType. */}}
{{- define "portico.gatewayPathType" -}}
{{- if eq (.pathType | default "Prefix") "Exact" }}Exact{{ else }}PathPrefix{{ end }}
{{- end }}

{{/*
Gateway API backendRef for an expose path. Another Service needs a port number.
Args: dict "root" $ "path" <path> "where" <key path>.
*/}}
{{- define "portico.pathBackendRef" -}}
{{- $svc := .path.service | default dict }}
{{- if $svc.name }}
{{- if not (kindIs "float64" $svc.port) }}{{- if not (kindIs "int" $svc.port) }}{{- if not (kindIs "int64" $svc.port) }}
{{- fail (printf "%s.service.port: Gateway API backendRefs need a port number for service %q, got %v; give the number of that Service's port" .where $svc.name $svc.port) }}
{{- end }}{{- end }}{{- end }}
name: {{ $svc.name }}
port: {{ $svc.port }}
{{- else }}
name: {{ include "portico.serviceName" .root }}
port: {{ include "portico.servicePortNumber" (dict "root" .root "port" ($svc.port | default (include "portico.defaultServicePort" .root)) "where" (printf "%s.service.port" .where)) }}
{{- end }}
{{- end }}

{{/*
The apiVersion of a Gateway API kind: the value when set; else the newest version
the cluster serves (helm's Capabilities: discovery on install and upgrade,
--api-versions for helm template); else the first (GA) one, for helm template
without a cluster. Args: dict "root" $ "kind" <Kind> "set" <value> "versions" <newest first>.
*/}}
{{- define "portico.gatewayApiVersion" -}}
{{- if .set }}{{ .set }}{{ else }}
{{- $found := "" }}
{{- range .versions }}{{ if and (not $found) ($.root.Capabilities.APIVersions.Has (printf "gateway.networking.k8s.io/%s/%s" . $.kind)) }}{{ $found = . }}{{ end }}{{ end }}
{{- printf "gateway.networking.k8s.io/%s" ($found | default (first .versions)) }}
{{- end }}
{{- end }}

{{/*
Fail, naming the key, when the cluster serves Gateway API but not this kind (its CRDs predate it). helm
template without a cluster serves no Gateway API at all, so there it renders the first version.
Args: dict "root" $ "kind" <Kind> "versions" <list> "key" <values key> "since" <Gateway API release>.
*/}}
{{- define "portico.requireGatewayKind" -}}
{{- $caps := .root.Capabilities.APIVersions }}
{{- if or ($caps.Has "gateway.networking.k8s.io/v1") ($caps.Has "gateway.networking.k8s.io/v1beta1") }}
{{- $served := false }}
{{- range .versions }}{{ if $caps.Has (printf "gateway.networking.k8s.io/%s/%s" . $.kind) }}{{ $served = true }}{{ end }}{{ end }}
{{- if not $served }}
{{- fail (printf "%s: this cluster serves Gateway API without %s (it came in Gateway API %s's standard channel); install newer Gateway API CRDs, or set %s: false" .key .kind .since .key) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The ListenerSet's listeners, as JSON: listenerSet.listeners, else an HTTP listener on port 80 for each host of
expose.hosts (each once) and, with expose.tls, an HTTPS one on 443 for each host the certificate covers.
*/}}
{{- define "portico.listenerSetListeners" -}}
{{- $listeners := .Values.listenerSet.listeners }}
{{- if not $listeners }}
{{- $tls := .Values.expose.tls }}
{{- $hosts := list }}
{{- range .Values.expose.hosts }}{{ if not (has .host $hosts) }}{{ $hosts = append $hosts .host }}{{ end }}{{ end }}
{{- $cert := dict "kind" "Secret" "group" "" "name" ($tls.secretName | default (printf "%s-tls" (include "portico.fullname" .))) }}
{{- range $hosts }}
{{- $name := . | replace "*." "wildcard." }}
{{- $listeners = append $listeners (dict "name" (printf "http-%s" $name) "port" 80 "protocol" "HTTP" "hostname" .) }}
{{- if and $tls.enabled (or (not $tls.hosts) (has . $tls.hosts)) }}
{{- $listeners = append $listeners (dict "name" (printf "https-%s" $name) "port" 443 "protocol" "HTTPS" "hostname" . "tls" (dict "mode" "Terminate" "certificateRefs" (list $cert))) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $listeners }}
{{- end }}

{{/* The listener protocols each route kind attaches to (Gateway API's rules). */}}
{{- define "portico.routeProtocols" -}}
{{- toJson (dict "HTTPRoute" (list "HTTP" "HTTPS") "GRPCRoute" (list "HTTP" "HTTPS") "TLSRoute" (list "TLS") "TCPRoute" (list "TCP") "UDPRoute" (list "UDP")) }}
{{- end }}

{{/* A route's parentRefs: the release's ListenerSet when listenerSet.attachRoutes, else its own. Args: root, refs. */}}
{{- define "portico.parentRefs" -}}
{{- $ls := .root.Values.listenerSet }}
{{- if and $ls.enabled $ls.attachRoutes }}
{{- toYaml (list (dict "group" "gateway.networking.k8s.io" "kind" "ListenerSet" "name" (include "portico.fullname" .root))) }}
{{- else }}
{{- toYaml .refs }}
{{- end }}
{{- end }}
