{{/*
Names. Kubernetes object names are DNS labels: at most 63 characters. The longest suffix the
chart appends is "-webhook-tls" (12), so names are cut at 63 and each derived name is cut
again after its suffix is added, with a trailing "-" removed (a name may not end in one).
*/}}

{{- define "aigov.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's base name: the release name when it already contains the chart name (release
"aigov" gives "aigov", not "aigov-aigov"), otherwise "<release>-<chart>".
*/}}
{{- define "aigov.fullname" -}}
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

{{- define "aigov.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "aigov.labels" -}}
helm.sh/chart: {{ include "aigov.chart" . }}
{{ include "aigov.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aigov
{{- end }}

{{/* Labels that select the operator's pods: never change them on upgrade (immutable). */}}
{{- define "aigov.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aigov.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aigov.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aigov.fullname" .) .Values.serviceAccount.name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The webhook Service; the API server calls <service>.<namespace>.svc. */}}
{{- define "aigov.serviceName" -}}
{{- printf "%s-webhook" (include "aigov.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret holding tls.crt, tls.key and ca.crt, from cert-manager or the chart. */}}
{{- define "aigov.tlsSecretName" -}}
{{- default (printf "%s-webhook-tls" (include "aigov.fullname" .)) .Values.webhooks.tls.secretName | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The coordination.k8s.io Lease the replicas elect their leader in. */}}
{{- define "aigov.leaseName" -}}
{{- include "aigov.fullname" . }}
{{- end }}

{{/* The cert-manager Certificate (and, without issuerRef, its self-signed Issuer). */}}
{{- define "aigov.certificateName" -}}
{{- printf "%s-webhook" (include "aigov.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Namespaces no webhook of aigov judges objects in: kube-system (always, so a broken aigov can
never stop the cluster from repairing itself), webhooks.excludedNamespaces, and the release
namespace (aigov never judges its own pods). Same order as the operator's never_intercepted.
*/}}
{{- define "aigov.neverIntercepted" -}}
{{- $never := concat (list "kube-system") .Values.webhooks.excludedNamespaces (list .Release.Namespace) | uniq }}
{{- toJson $never }}
{{- end }}

{{/* The operator's identity, as the API server names it in request.userInfo. */}}
{{- define "aigov.operatorUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "aigov.serviceAccountName" .) }}
{{- end }}

{{- define "aigov.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The webhook client configuration without its path: the Service (the normal case) or a URL
(an operator outside the cluster). caBundle is added by the caller, or by cert-manager.
*/}}
{{- define "aigov.webhookClient" -}}
{{- if .root.Values.webhooks.url }}
url: {{ printf "%s/%s" (trimSuffix "/" .root.Values.webhooks.url) .path | quote }}
{{- else }}
service:
  name: {{ include "aigov.serviceName" .root }}
  namespace: {{ .root.Release.Namespace }}
  port: {{ .root.Values.service.port }}
  path: {{ printf "/%s" .path | quote }}
{{- end }}
{{- end }}

{{/* cert-manager's CA injector fills caBundle from the Certificate's Secret. */}}
{{- define "aigov.webhookAnnotations" -}}
{{- if .Values.certManager.enabled }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "aigov.certificateName" .) }}
{{- end }}
{{- end }}

{{/*
One webhook. Input: root, name, path (the kopf handler id), sideEffects, namespaceSelector
(absent = every namespace), resources (group/version/plural/subresources), withSubresources
(whether the rules name the subresources too), operations, reinvocationPolicy (mutating only),
matchConditions (a list, absent = none), caBundle.
*/}}
{{- define "aigov.webhook" -}}
- name: {{ .name }}
  clientConfig:
    {{- include "aigov.webhookClient" (dict "root" .root "path" .path) | trim | nindent 4 }}
    {{- if .caBundle }}
    caBundle: {{ .caBundle }}
    {{- end }}
  admissionReviewVersions: ["v1"]
  sideEffects: {{ .sideEffects }}
  matchPolicy: Equivalent
  failurePolicy: {{ .root.Values.webhooks.failurePolicy }}
  timeoutSeconds: {{ .root.Values.webhooks.timeoutSeconds }}
  {{- with .namespaceSelector }}
  namespaceSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .reinvocationPolicy }}
  reinvocationPolicy: {{ . }}
  {{- end }}
  {{- with .matchConditions }}
  matchConditions:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range $r := .resources }}
    - apiGroups: [{{ $r.group | quote }}]
      apiVersions: [{{ $r.version | quote }}]
      resources:
        - {{ $r.plural }}
        {{- if $.withSubresources }}
        {{- range $r.subresources }}
        - {{ printf "%s/%s" $r.plural . }}
        {{- end }}
        {{- end }}
      operations: {{ toJson $.operations }}
      scope: "*"
    {{- end }}
{{- end }}

{{/*
The engine table extension file: the values' engines and generic names, as YAML.
*/}}
{{- define "aigov.enginesFile" -}}
{{- $file := dict "engines" .Values.recognition.engines -}}
{{- with .Values.recognition.generic }}{{- $_ := set $file "generic" . -}}{{- end -}}
{{- toYaml $file -}}
{{- end }}

{{/*
The Secret holding the decision log's Ed25519 signing key (key.pem): the one named in
values, or "<base name>-decision-log-key" which the chart generates once.
*/}}
{{- define "aigov.decisionLogKeySecret" -}}
{{- .Values.decisionLog.signingKey.secretName | default (printf "%s-decision-log-key" (include "aigov.fullname" .)) }}
{{- end }}

{{/*
The claim the file sink writes to, when persistence is on.
*/}}
{{- define "aigov.decisionLogClaim" -}}
{{- .Values.decisionLog.persistence.existingClaim | default (printf "%s-decision-log" (include "aigov.fullname" .)) }}
{{- end }}
