{{/* Names, labels and the LOGSHIP_* settings shared by the templates. */}}

{{- define "logship.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "logship.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "logship.selectorLabels" -}}
app.kubernetes.io/name: {{ include "logship.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "logship.labels" -}}
{{ include "logship.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "logship.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "logship.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "logship.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where the sink Secret is mounted; *_FILE settings point into it. */}}
{{- define "logship.secretDir" -}}/etc/logship/secret{{- end -}}

{{/* The Secret to mount: the operator's, the chart's, or none (""). */}}
{{- define "logship.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else if .Values.secret.create -}}
{{- printf "%s-sink" (include "logship.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
The sink and tuning settings as a YAML map of LOGSHIP_* name to string value.
The DaemonSet reads them from the ConfigMap; the sidecar snippet inlines them.
*/}}
{{- define "logship.settings" -}}
{{- $v := .Values -}}
{{- $dir := include "logship.secretDir" . -}}
{{- $s := dict -}}
{{- $_ := set $s "LOGSHIP_INPUT_PATHS" $v.config.inputPaths -}}
{{- with $v.config.inputFormat }}{{ $_ := set $s "LOGSHIP_INPUT_FORMAT" . }}{{ end -}}
{{- $_ := set $s "LOGSHIP_MEMORY_LIMIT" $v.config.memoryLimit -}}
{{- $_ := set $s "LOGSHIP_SHUTDOWN_TIMEOUT_MS" (toString $v.config.shutdownTimeoutMs) -}}
{{- $_ := set $s "LOGSHIP_LOG_LEVEL" $v.config.logLevel -}}
{{- with $v.config.release }}{{ $_ := set $s "LOGSHIP_RELEASE" . }}{{ end -}}
{{- if $v.kubernetesApi.enabled -}}
{{- with $v.kubernetesApi.labels }}{{ $_ := set $s "LOGSHIP_K8S_LABELS" . }}{{ end -}}
{{- with $v.kubernetesApi.annotations }}{{ $_ := set $s "LOGSHIP_K8S_ANNOTATIONS" . }}{{ end -}}
{{- with $v.kubernetesApi.releaseFrom }}{{ $_ := set $s "LOGSHIP_RELEASE_FROM" . }}{{ end -}}
{{- end -}}
{{- $_ := set $s "LOGSHIP_SINK" $v.sink.kind -}}
{{- with $v.sink.compression }}{{ $_ := set $s "LOGSHIP_COMPRESSION" . }}{{ end -}}
{{- if eq $v.sink.kind "kafka" -}}
{{- $k := $v.sink.kafka -}}
{{- if not $k.brokers }}{{ fail "sink.kafka.brokers: required when sink.kind is kafka" }}{{ end -}}
{{- $_ := set $s "LOGSHIP_KAFKA_BROKERS" (join "," $k.brokers) -}}
{{- with $k.topic }}{{ $_ := set $s "LOGSHIP_KAFKA_TOPIC" . }}{{ end -}}
{{- with $k.topicFallback }}{{ $_ := set $s "LOGSHIP_KAFKA_TOPIC_FALLBACK" . }}{{ end -}}
{{- with $k.key }}{{ $_ := set $s "LOGSHIP_KAFKA_KEY" . }}{{ end -}}
{{- range $prop, $val := $k.options -}}
{{- $_ := set $s (printf "LOGSHIP_KAFKA_OPT_%s" ($prop | replace "." "_" | upper)) (toString $val) -}}
{{- end -}}
{{- range $prop, $key := $k.secretOptions -}}
{{- $_ := set $s (printf "LOGSHIP_KAFKA_OPT_%s_FILE" ($prop | replace "." "_" | upper)) (printf "%s/%s" $dir $key) -}}
{{- end -}}
{{- else if eq $v.sink.kind "http" -}}
{{- $h := $v.sink.http -}}
{{- $_ := set $s "LOGSHIP_HTTP_URL" (required "sink.http.url: required when sink.kind is http" $h.url) -}}
{{- with $h.format }}{{ $_ := set $s "LOGSHIP_HTTP_FORMAT" . }}{{ end -}}
{{- with $h.index }}{{ $_ := set $s "LOGSHIP_HTTP_INDEX" . }}{{ end -}}
{{- with $h.user }}{{ $_ := set $s "LOGSHIP_HTTP_USER" . }}{{ end -}}
{{- with $h.tokenSecretKey }}{{ $_ := set $s "LOGSHIP_HTTP_TOKEN_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- with $h.passwordSecretKey }}{{ $_ := set $s "LOGSHIP_HTTP_PASSWORD_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- with $h.caSecretKey }}{{ $_ := set $s "LOGSHIP_HTTP_CA_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- with $h.certSecretKey }}{{ $_ := set $s "LOGSHIP_HTTP_CERT_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- with $h.keySecretKey }}{{ $_ := set $s "LOGSHIP_HTTP_KEY_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- if $h.headers -}}
{{- $hs := list -}}
{{- range $name, $val := $h.headers }}{{ $hs = append $hs (printf "%s=%s" $name $val) }}{{ end -}}
{{- $_ := set $s "LOGSHIP_HTTP_HEADERS" (join "," $hs) -}}
{{- end -}}
{{- if $h.tlsInsecure }}{{ $_ := set $s "LOGSHIP_HTTP_TLS_INSECURE" "true" }}{{ end -}}
{{- with $h.concurrency }}{{ $_ := set $s "LOGSHIP_HTTP_CONCURRENCY" (toString .) }}{{ end -}}
{{- with $h.timeoutMs }}{{ $_ := set $s "LOGSHIP_HTTP_TIMEOUT_MS" (toString .) }}{{ end -}}
{{- end -}}
{{- range $name, $val := $v.config.extra -}}
{{- if or (hasKey $s $name) (has $name (list "LOGSHIP_STATE_DIR" "LOGSHIP_LISTEN" "LOGSHIP_K8S_API" "LOGSHIP_NODE_NAME")) }}{{ fail (printf "config.extra.%s: set by the chart; use its own value" $name) }}{{ end -}}
{{- $_ := set $s $name (toString $val) -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}
