{{/* Names, labels and references shared by every template. */}}

{{- define "pipemoe.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pipemoe.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (service, worker-npu, worker-cpu). */}}
{{- define "pipemoe.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pipemoe.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s%s:%s" .root.Values.image.registry .repository $tag -}}
{{- end -}}

{{- define "pipemoe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "pipemoe.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding tokens (and, unless external, the database password). */}}
{{- define "pipemoe.tokensSecret" -}}
{{- .Values.tokens.existingSecret | default (printf "%s-tokens" (include "pipemoe.fullname" .)) -}}
{{- end -}}

{{- define "pipemoe.databaseSecret" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "pipemoe.fullname" .)) -}}
{{- end -}}

{{- define "pipemoe.hasDatabasePassword" -}}
{{- if or .Values.database.existingSecret .Values.database.password -}}true{{- end -}}
{{- end -}}

{{/* The in-cluster URL workers reach the service at. */}}
{{- define "pipemoe.serviceUrl" -}}
{{- printf "http://%s:%d" (include "pipemoe.fullname" .) (int .Values.service.port) -}}
{{- end -}}
