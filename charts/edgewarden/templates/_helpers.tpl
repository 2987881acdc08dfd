{{/* The chart's name, truncated at 63 characters (a DNS label). */}}
{{- define "edgewarden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, truncated at 63 characters. */}}
{{- define "edgewarden.fullname" -}}
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

{{/* Labels every object carries. */}}
{{- define "edgewarden.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "edgewarden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: edgewarden
{{- end }}

{{/* The operator pods' selector. */}}
{{- define "edgewarden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "edgewarden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* A map of labels as the operator's label options take them: k=v,k=v (keys sorted). */}}
{{- define "edgewarden.labelArg" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{- define "edgewarden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "edgewarden.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "edgewarden.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Reading Secrets (issue 20): whether the Secrets an AnalysisAgent names exist (metadata only) and
a ModelDeployment's Secret source (its bytes). RBAC has no metadata-only, label- or
prefix-scoped get, so this is never in the ClusterRole: only in the Roles of a namespaced
install and of operator.secretNamespaces (docs/security.md, "Lows: Secrets").
*/}}
{{- define "edgewarden.secretReadRules" -}}
- apiGroups: ['']
  resources: [secrets]
  verbs: [get]
{{- end }}

{{/* What edgewarden-viewer grants, and edgewarden-triager with it (rbac-users.yaml). */}}
{{- define "edgewarden.viewerRules" -}}
- apiGroups: [edgewarden.io]
  resources:
    - analysisagents
    - analysisagents/status
    - modeldeployments
    - modeldeployments/status
    - exportjobs
    - exportjobs/status
  verbs: [get, list, watch]
- apiGroups: ['']
  resources: [pods]
  verbs: [get, list]
- apiGroups: ['']
  resources: [pods/proxy]
  verbs: [get]
- apiGroups: ['']
  resources: [secrets]
  resourceNames: [edgewarden-viewer-tokens]
  verbs: [get]
- apiGroups: ['']
  resources: [events]
  verbs: [list]
{{- end }}

{{/* The rules the operator needs in each namespace it watches. */}}
{{- define "edgewarden.watchRules" -}}
- apiGroups: [edgewarden.io]
  resources: [analysisagents, modeldeployments, exportjobs]
  verbs: [get, list, watch]
- apiGroups: [edgewarden.io]
  resources: [analysisagents/status, modeldeployments/status, exportjobs/status]
  verbs: [get, patch, update]
# Finalizers (files of an ExportJob with a TTL) and the TTL's deletion.
- apiGroups: [edgewarden.io]
  resources: [exportjobs]
  verbs: [patch, delete]
- apiGroups: [edgewarden.io]
  resources: [analysisagents/finalizers, exportjobs/finalizers]
  verbs: [update]
# Agent children, applied server-side; the garbage collector deletes them with their owner.
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, create, patch]
- apiGroups: ['']
  resources: [services, configmaps, serviceaccounts]
  verbs: [get, list, watch, create, patch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create]
# Each AnalysisAgent's NetworkPolicy (issue 20, H2), applied server-side like the other
# children; deleted when --agent-network-policy=false (the list and watch stay: the operator
# still looks for the ones it made, to remove them).
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: ['']
  resources: [pods]
  verbs: [get, list, watch]
# Secrets: create only, an ExportJob's <name>-agent-tokens (its agents' read tokens), never
# updated or listed. Reading Secrets is edgewarden.secretReadRules, per namespace only.
- apiGroups: ['']
  resources: [secrets]
  verbs: [create]
# Each namespace's token Secrets for kubectl edgewarden (issue 21), by name: the operator reads
# and rewrites only these two, as its agents come and go.
- apiGroups: ['']
  resources: [secrets]
  resourceNames: [edgewarden-viewer-tokens, edgewarden-triager-tokens]
  verbs: [get, update, patch]
- apiGroups: ['']
  resources: [persistentvolumeclaims]
  verbs: [get]
- apiGroups: ['']
  resources: [events]
  verbs: [get, create, patch]
{{- end }}
