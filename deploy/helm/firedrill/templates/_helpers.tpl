{{/* Chart name, truncated to 63 characters. */}}
{{- define "firedrill.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects; per-spec objects append "-<spec>-<job>". */}}
{{- define "firedrill.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "firedrill.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "firedrill.selectorLabels" -}}
app.kubernetes.io/name: {{ include "firedrill.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "firedrill.labels" -}}
helm.sh/chart: {{ include "firedrill.chart" . }}
{{ include "firedrill.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "firedrill.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "firedrill.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "firedrill.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "firedrill.specsConfigMap" -}}
{{- printf "%s-specs" (include "firedrill.fullname" .) }}
{{- end }}

{{/* A spec's name, checked: it becomes part of object names and the spec's file name. */}}
{{- define "firedrill.specName" -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$" .) }}
{{- fail (printf "specs.%s: a spec name must be 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit" .) }}
{{- end }}
{{- . }}
{{- end }}

{{/*
A spec's TOML as the ConfigMap holds it: the spec of the values, plus `[metrics]
pushgateway` (CronJobs only: the schedule Deployment serves /metrics itself) and
`[[notify.webhook]]` from the chart values. Argument: a dict with root, name, spec.
*/}}
{{- define "firedrill.specText" -}}
{{- $v := .root.Values -}}
{{- $text := .spec | trimSuffix "\n" -}}
{{- if and $v.metrics.pushgateway (not $v.schedule.enabled) }}
{{- if regexMatch "(?m)^\\s*\\[metrics\\]" $text }}
{{- fail (printf "specs.%s.spec has its own [metrics] table: put pushgateway there and leave metrics.pushgateway empty" .name) }}
{{- end }}
{{- $text = printf "%s\n\n# From the chart value metrics.pushgateway.\n[metrics]\npushgateway = %s" $text ($v.metrics.pushgateway | quote) }}
{{- end }}
{{- if $v.webhook.secretName }}
{{- $text = printf "%s\n\n# From the chart value webhook: the URL is in the env of every pod.\n[[notify.webhook]]\nurl-env = %s\non = %s\nformat = %s" $text ($v.webhook.env | quote) ($v.webhook.notifyOn | quote) ($v.webhook.format | quote) }}
{{- end }}
{{- $text }}
{{- end }}

{{/*
The pod's work volume (HOME, TMPDIR, drill.work-dir): the one writable place a spec's own
files can go, the root filesystem being read-only.
*/}}
{{- define "firedrill.workMount" -}}
/var/lib/firedrill
{{- end }}

{{/*
How a spec uses pgBackRest, from its text: "" (not a pgBackRest source), "managed" (pg-path
in [source]: firedrill writes the configuration into source.config) or "existing" (it reads
the user's pgbackrest.conf). Argument: the spec's text.
*/}}
{{- define "firedrill.pgbackrestMode" -}}
{{- if regexMatch "(?m)^\\s*kind\\s*=\\s*[\"']pgbackrest[\"']" . }}
{{- if regexMatch "(?m)^\\s*pg-path\\s*=" . }}managed{{ else }}existing{{ end }}
{{- end }}
{{- end }}

{{/*
A spec's `pgbackrest` block, checked against its spec (renders nothing). The repositories'
secure options reach the pods as environment variables from a Secret (envSecret, env); their
values never go into values files or the ConfigMap. A spec reading an existing
pgbackrest.conf needs it from a Secret (configSecret, mounted read-only at /etc/pgbackrest/);
a managed spec has firedrill write its configuration, so it gets no configSecret and its
source.config must lie on the work volume. Argument: a dict with name, s (the spec's values).
*/}}
{{- define "firedrill.pgbackrestCheck" -}}
{{- $name := .name -}}
{{- $text := .s.spec | default "" -}}
{{- $mode := include "firedrill.pgbackrestMode" $text -}}
{{- $pgb := .s.pgbackrest | default dict -}}
{{- if and .s.pgbackrest (not $mode) }}
{{- fail (printf "specs.%s.pgbackrest: the spec is not a pgBackRest source (kind = \"pgbackrest\" in [source]): remove the block" $name) }}
{{- end }}
{{- if and (eq $mode "existing") (not $pgb.configSecret) }}
{{- fail (printf "specs.%s.spec is a pgBackRest source: give specs.%s.pgbackrest.configSecret, the Secret holding its pgbackrest.conf (kubectl create secret generic NAME --from-file=pgbackrest.conf), or let firedrill write the configuration (pg-path in [source], deploy/README.md)" $name $name) }}
{{- end }}
{{- if eq $mode "managed" }}
{{- if $pgb.configSecret }}
{{- fail (printf "specs.%s.pgbackrest.configSecret: the spec has pg-path in [source], so firedrill writes its pgBackRest configuration itself and never overwrites a mounted file: remove configSecret (the secrets stay in envSecret and env)" $name) }}
{{- end }}
{{- $work := include "firedrill.workMount" . }}
{{- $line := regexFind "(?m)^\\s*config\\s*=\\s*[\"'][^\"']*[\"']" $text }}
{{- $conf := regexReplaceAll "^\\s*config\\s*=\\s*[\"']([^\"']*)[\"']$" $line "${1}" }}
{{- if not (hasPrefix (printf "%s/" $work) (clean $conf)) }}
{{- fail (printf "specs.%s.spec: source.config `%s` is not on the pod's work volume (%s): firedrill writes the managed pgBackRest configuration there and the root filesystem is read-only: use config = \"%s/work/pgbackrest/%s.conf\"" $name ($conf | default "(unset)") $work $work $name) }}
{{- end }}
{{- end }}
{{- range $i, $v := $pgb.env }}
{{- /* The entry is never printed: it might be a value pasted by mistake. */}}
{{- if not (and (kindIs "string" $v) (regexMatch "^PGBACKREST_[A-Z0-9_]+$" $v)) }}
{{- fail (printf "specs.%s.pgbackrest.env[%d] is not a pgBackRest variable name: list names only (PGBACKREST_REPO2_CIPHER_PASS, ...), each read from the Secret envSecret under the same key" $name $i) }}
{{- end }}
{{- end }}
{{- if and $pgb.env (not $pgb.envSecret) }}
{{- fail (printf "specs.%s.pgbackrest.envSecret: name the Secret holding %s" $name (join ", " $pgb.env)) }}
{{- end }}
{{- end }}

{{/*
The pod spec of a firedrill Job or Deployment. Argument: a dict with
  root       the chart's root context
  component  backup | drill | schedule
  args       the firedrill arguments after --log-format
  env        list of EnvVar
  resources  container resources
  workSize   sizeLimit of the work emptyDir (HOME, TMPDIR, work-dir)
  identity   true: mount the age identity Secret
  shmSize    sizeLimit of /dev/shm (empty: none)
  reports    a volume source for /var/lib/firedrill/reports (empty: none)
  specItems  list of ConfigMap keys to mount (empty: all)
  pgbackrest a spec's `pgbackrest` block (empty: none): its Secret configSecret (if any)
             mounted read-only at /etc/pgbackrest/, its variables from the Secret envSecret
  restart    restartPolicy (empty: the default)
  ports      container ports (empty: none)
  probes     a dict of startupProbe, livenessProbe, readinessProbe (empty: none)
*/}}
{{- define "firedrill.podSpec" -}}
{{- $root := .root -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
serviceAccountName: {{ include "firedrill.serviceAccountName" $root }}
automountServiceAccountToken: false
{{- with .restart }}
restartPolicy: {{ . }}
{{- end }}
terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: firedrill
    image: {{ include "firedrill.image" $root | quote }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args:
      {{- toYaml (concat (list "--log-format" $root.Values.logFormat) .args) | nindent 6 }}
    {{- $env := concat (.env | default list) ($root.Values.extraEnv | default list) }}
    {{- with .pgbackrest }}
    {{- $secret := .envSecret }}
    {{- range .env }}
    {{- $env = append $env (dict "name" . "valueFrom" (dict "secretKeyRef" (dict "name" $secret "key" .))) }}
    {{- end }}
    {{- end }}
    {{- with $root.Values.webhook }}
    {{- if .secretName }}
    {{- $env = append $env (dict "name" .env "valueFrom" (dict "secretKeyRef" (dict "name" .secretName "key" .key))) }}
    {{- end }}
    {{- end }}
    {{- with .ports }}
    ports:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .probes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $env }}
    env:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    resources:
      {{- toYaml .resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: specs
        mountPath: /etc/firedrill/specs
        readOnly: true
      {{- if .identity }}
      - name: identity
        mountPath: /etc/firedrill/identity
        readOnly: true
      {{- end }}
      {{- if (.pgbackrest | default dict).configSecret }}
      - name: pgbackrest
        mountPath: /etc/pgbackrest
        readOnly: true
      {{- end }}
      - name: work
        mountPath: {{ include "firedrill.workMount" . }}
      {{- if .reports }}
      - name: reports
        mountPath: /var/lib/firedrill/reports
      {{- end }}
      - name: tmp
        mountPath: /tmp
      {{- if .shmSize }}
      - name: dshm
        mountPath: /dev/shm
      {{- end }}
volumes:
  - name: specs
    configMap:
      name: {{ include "firedrill.specsConfigMap" $root }}
      {{- with .specItems }}
      items:
        {{- range . }}
        - key: {{ . }}
          path: {{ . }}
        {{- end }}
      {{- end }}
  {{- if .identity }}
  - name: identity
    secret:
      secretName: {{ $root.Values.identity.secretName }}
      items:
        - key: {{ $root.Values.identity.key }}
          path: identity.txt
      # Group-readable: with fsGroup the file belongs to root and the pod's group.
      defaultMode: 0440
  {{- end }}
  {{- with (.pgbackrest | default dict).configSecret }}
  - name: pgbackrest
    secret:
      # Every key a file in /etc/pgbackrest/: pgbackrest.conf (pgBackRest's default path)
      # and the files it names (e.g. the TLS client certificate of a pg1-host).
      secretName: {{ . }}
      # Group-readable: with fsGroup the files belong to root and the pod's group.
      defaultMode: 0440
  {{- end }}
  - name: work
    emptyDir:
      sizeLimit: {{ .workSize }}
  {{- with .reports }}
  - name: reports
    {{- toYaml . | nindent 4 }}
  {{- end }}
  - name: tmp
    emptyDir:
      sizeLimit: 256Mi
  {{- if .shmSize }}
  - name: dshm
    emptyDir:
      medium: Memory
      sizeLimit: {{ .shmSize }}
  {{- end }}
{{- end }}

{{/* The Job failure policy shared by backup and drill CronJobs. */}}
{{- define "firedrill.podFailurePolicy" -}}
podFailurePolicy:
  rules:
    # Exit 1 is a verdict (a check or target failed, or the backup proved unrestorable): the
    # report says so, and running it again would only hide it.
    - action: FailJob
      onExitCodes:
        containerName: firedrill
        operator: In
        values: [1]
    # A pod evicted or preempted does not use up a retry.
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
          status: "True"
{{- end }}
