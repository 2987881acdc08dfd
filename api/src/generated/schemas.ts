// Generated from api/schema/ by scripts/gen-api.ts. Do not edit: edit the source and run npm run generate:api.
import type { OpenApiSchema } from '../openapi.js';

/** The openAPIV3Schema of each kind, exactly as in its CRD. */
export const openApiSchemas: Record<
  'AnalysisAgent' | 'ExportJob' | 'ModelDeployment',
  OpenApiSchema
> = {
  AnalysisAgent: {
    type: 'object',
    description:
      "AnalysisAgent enables one of edgewarden's built-in analysis agents. The operator runs it as agent pods that read router logs from PostgreSQL, find what is abnormal, store anomalies in a local SQLite database and report them through status, Prometheus and notifications.",
    'x-kubernetes-validations': [
      {
        rule: 'self.metadata.name.size() <= 63',
        message: 'metadata.name must be at most 63 characters, because it becomes a label value',
      },
    ],
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object: edgewarden.io/v1alpha1.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents.',
      },
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        description: 'What the agent analyses, where it reads from and how it reports.',
        required: ['agent', 'source'],
        properties: {
          agent: {
            type: 'string',
            description:
              'Built-in analysis agent. wifi: hostapd / wpa_supplicant association churn, wrong passwords, deauthentication floods. dns: dnsmasq DNS and DHCP (pool exhaustion, rogue clients, tunnelling, rebinding). auth: dropbear and LuCI logins (brute force, credential stuffing). firewall: fw4 / nftables drops and rejects (port scans, floods). system: netifd, procd and kernel (WAN flaps, crashes, memory pressure). template: generic log-template frequency model for any program.',
            enum: ['wifi', 'dns', 'auth', 'firewall', 'system', 'template'],
            maxLength: 8,
          },
          replicas: {
            type: 'integer',
            format: 'int32',
            description:
              'Number of agent pods. Each pod analyses a disjoint share of the devices. 0 stops the agent without deleting it.',
            default: 1,
            minimum: 0,
            maximum: 16,
          },
          interval: {
            type: 'string',
            description: 'How often an analysis cycle runs, between 10s and 24h. Default "5m".',
            maxLength: 32,
            pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
            default: '5m',
            'x-kubernetes-validations': [
              {
                rule: "duration(self) >= duration('10s') && duration(self) <= duration('24h')",
                message: 'interval must be between 10s and 24h',
              },
            ],
          },
          paused: {
            type: 'boolean',
            description:
              'Stop analysing until set back to false. The agent is scaled to zero pods; its stored anomalies and watermark survive only with storage.type persistentVolumeClaim (an emptyDir store is lost).',
            default: false,
          },
          source: {
            type: 'object',
            description:
              'The PostgreSQL database the router logs are collected into, read only and incrementally (by a watermark), never re-reading the whole table.',
            required: ['secretRef'],
            'x-kubernetes-validations': [
              {
                rule: "self.preset != 'custom' || has(self.table)",
                message: 'table is required when preset is custom',
                fieldPath: '.table',
              },
              {
                rule: "self.preset != 'custom' || (has(self.columns) && has(self.columns.timestamp) && has(self.columns.message))",
                message: 'columns.timestamp and columns.message are required when preset is custom',
                fieldPath: '.columns',
              },
              {
                rule: "!has(self.watermark) || self.watermark != 'id' || self.preset == 'log_entries' || self.preset == 'SystemEvents' || (has(self.columns) && has(self.columns.id))",
                message:
                  'watermark id needs an id column (set columns.id, or use watermark timestamp)',
                fieldPath: '.watermark',
              },
              {
                rule: "!has(self.caSecretRef) || self.sslMode != 'disable'",
                message: 'caSecretRef needs TLS; it cannot be used with sslMode disable',
                fieldPath: '.caSecretRef',
              },
            ],
            properties: {
              secretRef: {
                type: 'object',
                description:
                  'Secret with the connection: either a key `url` (postgresql://user:password@host:5432/database) or the keys host, port, database, username and password. Use a read-only database role.',
                required: ['name'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the Secret, in the same namespace as this resource.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                },
              },
              sslMode: {
                type: 'string',
                description:
                  "TLS to PostgreSQL, as libpq's sslmode. verify-full (the default) checks the certificate chain and the host name; verify-ca checks the chain only; require encrypts without checking; prefer tries TLS first; disable sends in clear text.",
                enum: ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'],
                default: 'verify-full',
                maxLength: 11,
              },
              caSecretRef: {
                type: 'object',
                description:
                  "CA certificate (PEM) that signs the server's certificate, for verify-ca and verify-full. Key defaults to ca.crt. Without it the system trust store is used.",
                required: ['name'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the Secret, in the same namespace as this resource.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                  key: {
                    type: 'string',
                    description:
                      "Key within the Secret. Defaults to the key named in the field's description.",
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                },
              },
              preset: {
                type: 'string',
                description:
                  "Table and column mapping to start from. log_entries: edgewarden's collector table. SystemEvents: rsyslog ompgsql. messages: syslog-ng sql() defaults. custom: name the table and columns yourself. table and columns override the preset. A table other than the presets' must be allowed by the administrator (the operator's --allowed-source-tables), else the agent is refused with a condition.",
                enum: ['log_entries', 'SystemEvents', 'messages', 'custom'],
                default: 'log_entries',
                maxLength: 12,
              },
              table: {
                type: 'string',
                description:
                  "Table to read, optionally schema-qualified (schema.table). Overrides the preset's table. A table other than the presets' must be allowed by the administrator (the operator's --allowed-source-tables).",
                maxLength: 127,
                pattern: '^[A-Za-z_][A-Za-z0-9_$]{0,62}(\\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$',
              },
              columns: {
                type: 'object',
                description:
                  "Column names, each overriding the preset's. Unset columns keep the preset's.",
                properties: {
                  id: {
                    type: 'string',
                    description: 'Monotonic row id, used as the watermark when present.',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                  timestamp: {
                    type: 'string',
                    description: 'When the line was logged (timestamp or timestamptz).',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                  host: {
                    type: 'string',
                    description: 'Device the line came from (host name or address).',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                  program: {
                    type: 'string',
                    description: 'Program (syslog tag) that wrote the line.',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                  level: {
                    type: 'string',
                    description: 'Syslog severity, as a name or a number.',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                  facility: {
                    type: 'string',
                    description: 'Syslog facility, as a name or a number.',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                  message: {
                    type: 'string',
                    description: 'The log message text.',
                    maxLength: 63,
                    pattern: '^[A-Za-z_][A-Za-z0-9_$]*$',
                  },
                },
              },
              watermark: {
                type: 'string',
                description:
                  'How new rows are found: id (a monotonic id column) or timestamp. Defaults to id when the mapping has an id column, else timestamp.',
                enum: ['id', 'timestamp'],
                maxLength: 9,
              },
              programs: {
                type: 'array',
                description:
                  "Read only lines from these programs (syslog tags), for example dnsmasq; the filter runs in the database query. Empty reads every row, and the agent's engine then analyses only the programs that agent reads (all of them for template).",
                maxItems: 64,
                'x-kubernetes-list-type': 'set',
                items: { type: 'string', maxLength: 64 },
              },
              devices: {
                type: 'array',
                description:
                  'Read only lines from these devices (host names or addresses). Empty reads all devices.',
                maxItems: 256,
                'x-kubernetes-list-type': 'set',
                items: { type: 'string', maxLength: 253 },
              },
              batchSize: {
                type: 'integer',
                format: 'int32',
                description: 'Rows fetched per query. Smaller batches use less memory.',
                default: 5000,
                minimum: 100,
                maximum: 100000,
              },
              backfill: {
                type: 'string',
                description:
                  "On the agent's first start (no position stored yet), also analyse the rows of this period before now, e.g. 24h, up to 720h: a new agent then reports what already happened. Without it an agent starts with the rows that arrive after it. Has no effect once the agent has stored a position.",
                maxLength: 32,
                pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                'x-kubernetes-validations': [
                  {
                    rule: "duration(self) <= duration('720h')",
                    message: 'backfill must be at most 720h',
                  },
                ],
              },
            },
          },
          cache: {
            type: 'object',
            description:
              'Optional Redis where each agent pod publishes its live status: expiring keys named by keyPrefix, the agent and the pod, ending in status, health, error and last_check. Nothing else is kept there: without it nothing is published, and the analysis is the same. Set exactly one of url or secretRef.',
            'x-kubernetes-validations': [
              {
                rule: 'has(self.url) != has(self.secretRef)',
                message: 'set exactly one of cache.url or cache.secretRef',
              },
            ],
            properties: {
              url: {
                type: 'string',
                description:
                  'Redis URL without credentials, for example redis://redis.edgewarden:6379/0.',
                maxLength: 512,
                pattern: '^rediss?://[^\\s:@/]+(:[0-9]{1,5})?(/[0-9]{1,2})?$',
              },
              secretRef: {
                type: 'object',
                description:
                  'Secret key holding the full Redis URL, credentials included. Key defaults to url.',
                required: ['name'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the Secret, in the same namespace as this resource.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                  key: {
                    type: 'string',
                    description:
                      "Key within the Secret. Defaults to the key named in the field's description.",
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                },
              },
              keyPrefix: {
                type: 'string',
                description:
                  'Prefix for every key this agent writes, so several agents can share one Redis.',
                default: 'edgewarden:',
                maxLength: 64,
              },
            },
          },
          model: {
            type: 'object',
            description:
              'The ModelDeployment whose model this agent serves. Optional: without it the agent runs on its rules alone.',
            required: ['name'],
            properties: {
              name: {
                type: 'string',
                description:
                  'Name of a ModelDeployment in the same namespace whose spec.agent matches this agent.',
                minLength: 1,
                maxLength: 253,
                pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
              },
            },
          },
          rules: {
            type: 'object',
            description:
              "Tuning of the detection rules (docs/rules.md): rules turned off or on, thresholds and windows overridden, what is never reported, and packs of your own from ConfigMaps. Applied by the running agent within a cycle, without a restart and without losing what it has learned; a change that does not compile is refused (the agent's status names the rule and the field) and the rules in force keep running.",
            properties: {
              disabled: {
                type: 'array',
                description: 'Ids of rules not to run.',
                maxItems: 500,
                'x-kubernetes-list-type': 'set',
                items: {
                  type: 'string',
                  description:
                    'The id of a detection rule (docs/rules.md), such as auth.sshd-brute-force.',
                  minLength: 1,
                  maxLength: 100,
                  pattern: '^[a-z0-9]+([.-][a-z0-9]+)*$',
                },
              },
              enabled: {
                type: 'array',
                description: 'Ids of rules a pack ships turned off, to run.',
                maxItems: 500,
                'x-kubernetes-list-type': 'set',
                items: {
                  type: 'string',
                  description:
                    'The id of a detection rule (docs/rules.md), such as auth.sshd-brute-force.',
                  minLength: 1,
                  maxLength: 100,
                  pattern: '^[a-z0-9]+([.-][a-z0-9]+)*$',
                },
              },
              overrides: {
                type: 'array',
                description:
                  "A rule's threshold, window (count and distinct rules), within (absence rules) or severity.",
                maxItems: 500,
                'x-kubernetes-list-type': 'map',
                'x-kubernetes-list-map-keys': ['rule'],
                items: {
                  type: 'object',
                  required: ['rule'],
                  'x-kubernetes-validations': [
                    {
                      rule: 'has(self.threshold) || has(self.window) || has(self.within) || has(self.severity)',
                      message:
                        'an override sets at least one of threshold, window, within, severity',
                    },
                  ],
                  properties: {
                    rule: {
                      type: 'string',
                      description:
                        'The id of a detection rule (docs/rules.md), such as auth.sshd-brute-force.',
                      minLength: 1,
                      maxLength: 100,
                      pattern: '^[a-z0-9]+([.-][a-z0-9]+)*$',
                    },
                    threshold: {
                      type: 'integer',
                      format: 'int32',
                      description:
                        'Matches (count) or distinct values (distinct) that make a finding.',
                      minimum: 1,
                      maximum: 1000000,
                    },
                    window: {
                      type: 'string',
                      description:
                        'The sliding window the threshold is counted over, 1s to 31 days.',
                      maxLength: 32,
                      pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                      'x-kubernetes-validations': [
                        {
                          rule: "duration(self) >= duration('1s') && duration(self) <= duration('744h')",
                          message: 'window must be between 1s and 744h',
                        },
                      ],
                    },
                    within: {
                      type: 'string',
                      description:
                        'How long a state may last before it is reported (absence rules).',
                      maxLength: 32,
                      pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                      'x-kubernetes-validations': [
                        {
                          rule: "duration(self) >= duration('1s') && duration(self) <= duration('744h')",
                          message: 'within must be between 1s and 744h',
                        },
                      ],
                    },
                    severity: {
                      type: 'integer',
                      format: 'int32',
                      description: '1 (informational) to 5 (critical).',
                      minimum: 1,
                      maximum: 5,
                    },
                  },
                },
              },
              allow: {
                type: 'object',
                description: 'What is never reported, by any rule.',
                properties: {
                  sources: {
                    type: 'array',
                    description:
                      "Addresses or CIDR networks (IPv4 or IPv6) a rule's source capture is never reported for, such as your own scanner.",
                    maxItems: 256,
                    'x-kubernetes-list-type': 'set',
                    items: {
                      type: 'string',
                      maxLength: 64,
                      pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$',
                    },
                  },
                  devices: {
                    type: 'array',
                    description:
                      'Devices (host names or addresses) whose lines no rule and no agent reports on.',
                    maxItems: 256,
                    'x-kubernetes-list-type': 'set',
                    items: { type: 'string', maxLength: 253 },
                  },
                  users: {
                    type: 'array',
                    description: "User names a rule's user capture is never reported for.",
                    maxItems: 256,
                    'x-kubernetes-list-type': 'set',
                    items: { type: 'string', maxLength: 256 },
                  },
                },
              },
              suppressions: {
                type: 'array',
                description:
                  'Findings of one rule not to report for a narrow scope (a device, a source address or network, a user) until a time, usually proposed by `kubectl edgewarden false-positive`. A suppressed finding is neither stored nor alerted; it is counted in edgewarden_anomalies_suppressed_total. To turn a rule off everywhere use disabled.',
                maxItems: 100,
                items: {
                  type: 'object',
                  required: ['rule', 'expires'],
                  'x-kubernetes-validations': [
                    {
                      rule: 'has(self.device) || has(self.source) || has(self.user)',
                      message:
                        'a suppression sets at least one of device, source, user (to turn a rule off, use rules.disabled)',
                    },
                  ],
                  properties: {
                    rule: {
                      type: 'string',
                      description: 'The id of the rule whose findings are suppressed.',
                      minLength: 1,
                      maxLength: 100,
                      pattern: '^[a-z0-9]+([.-][a-z0-9]+)*$',
                    },
                    device: {
                      type: 'string',
                      description: 'Only findings on this device (host name or address).',
                      minLength: 1,
                      maxLength: 253,
                    },
                    source: {
                      type: 'string',
                      description:
                        'Only findings whose source capture is this address or inside this CIDR network (IPv4 or IPv6).',
                      maxLength: 64,
                      pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$',
                    },
                    user: {
                      type: 'string',
                      description: 'Only findings whose user capture is this user name.',
                      minLength: 1,
                      maxLength: 256,
                    },
                    expires: {
                      type: 'string',
                      format: 'date-time',
                      description:
                        'When the suppression ends (RFC 3339); from then on the rule reports these findings again.',
                    },
                    reason: {
                      type: 'string',
                      description:
                        'Why the findings are suppressed, for the people who read the spec.',
                      maxLength: 256,
                    },
                    createdBy: {
                      type: 'string',
                      description: 'Who proposed the suppression.',
                      maxLength: 256,
                    },
                  },
                },
              },
              configMaps: {
                type: 'array',
                description:
                  "ConfigMaps in this namespace holding rule packs of your own (keys ending in .yaml). Editing one applies within a cycle of the kubelet updating the mounted files (about a minute); adding or removing a reference restarts the agent's pods.",
                maxItems: 16,
                'x-kubernetes-list-type': 'map',
                'x-kubernetes-list-map-keys': ['name'],
                items: {
                  type: 'object',
                  required: ['name'],
                  properties: {
                    name: {
                      type: 'string',
                      description: 'Name of a ConfigMap in the same namespace.',
                      minLength: 1,
                      maxLength: 253,
                      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                    },
                  },
                },
              },
            },
          },
          thresholds: {
            type: 'object',
            description:
              'When a finding counts as an anomaly, and which anomalies are stored and alerted.',
            default: {},
            'x-kubernetes-validations': [
              {
                rule: "!has(self.alertSeverity) || !has(self.storeSeverity) || {'info': 0, 'low': 1, 'medium': 2, 'high': 3, 'critical': 4}[self.alertSeverity] >= {'info': 0, 'low': 1, 'medium': 2, 'high': 3, 'critical': 4}[self.storeSeverity]",
                message:
                  'alertSeverity must not be below storeSeverity (an alert needs a stored anomaly)',
                fieldPath: '.alertSeverity',
              },
            ],
            properties: {
              score: {
                type: 'number',
                description:
                  "Model score (0 to 1) at or above which a line is anomalous. A ModelDeployment's threshold overrides it.",
                default: 0.8,
                minimum: 0,
                maximum: 1,
              },
              storeSeverity: {
                type: 'string',
                description: 'Least severe anomaly that is stored.',
                enum: ['info', 'low', 'medium', 'high', 'critical'],
                default: 'low',
                maxLength: 8,
              },
              alertSeverity: {
                type: 'string',
                description: 'Least severe anomaly that sends a notification.',
                enum: ['info', 'low', 'medium', 'high', 'critical'],
                default: 'high',
                maxLength: 8,
              },
            },
          },
          notifications: {
            type: 'object',
            description: "Where alerts go. Each channel's address or credentials live in a Secret.",
            properties: {
              slack: {
                type: 'object',
                description: 'Slack incoming webhook.',
                required: ['webhookSecretRef'],
                properties: {
                  webhookSecretRef: {
                    type: 'object',
                    description: 'Secret key holding the Slack webhook URL. Key defaults to url.',
                    required: ['name'],
                    properties: {
                      name: {
                        type: 'string',
                        description: 'Name of the Secret, in the same namespace as this resource.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                      key: {
                        type: 'string',
                        description:
                          "Key within the Secret. Defaults to the key named in the field's description.",
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                    },
                  },
                },
              },
              webhook: {
                type: 'object',
                description: 'Generic webhook that receives each alert as a JSON POST.',
                required: ['urlSecretRef'],
                properties: {
                  urlSecretRef: {
                    type: 'object',
                    description:
                      'Secret key holding the webhook URL (it may embed a token). Key defaults to url.',
                    required: ['name'],
                    properties: {
                      name: {
                        type: 'string',
                        description: 'Name of the Secret, in the same namespace as this resource.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                      key: {
                        type: 'string',
                        description:
                          "Key within the Secret. Defaults to the key named in the field's description.",
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                    },
                  },
                },
              },
              email: {
                type: 'object',
                description: 'E-mail through an SMTP server.',
                required: ['smtpSecretRef', 'from', 'to'],
                properties: {
                  smtpSecretRef: {
                    type: 'object',
                    description:
                      'Secret with the SMTP server: keys host, port, and optionally username, password, tls ("true"/"false").',
                    required: ['name'],
                    properties: {
                      name: {
                        type: 'string',
                        description: 'Name of the Secret, in the same namespace as this resource.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                    },
                  },
                  from: {
                    type: 'string',
                    description: 'Sender address.',
                    maxLength: 254,
                    pattern: '^[^@\\s]+@[^@\\s]+$',
                  },
                  to: {
                    type: 'array',
                    description: 'Recipient addresses.',
                    minItems: 1,
                    maxItems: 16,
                    items: { type: 'string', maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' },
                  },
                },
              },
              alertmanager: {
                type: 'object',
                description:
                  "Prometheus Alertmanager (API v2) that receives every anomaly at or above thresholds.alertSeverity as an alert, firing while it is open and resolved when it is resolved or suppressed; a silence there marks the anomaly suppressed. Without url or urlSecretRef the operator's --alertmanager-url (chart alertmanager.url) is used.",
                'x-kubernetes-validations': [
                  {
                    rule: '!(has(self.url) && has(self.urlSecretRef))',
                    message: 'set at most one of alertmanager.url or alertmanager.urlSecretRef',
                  },
                ],
                properties: {
                  url: {
                    type: 'string',
                    description:
                      "Alertmanager's address without credentials, for example http://alertmanager-operated.monitoring:9093.",
                    maxLength: 2048,
                    'x-kubernetes-validations': [
                      {
                        rule: "self.startsWith('http://') || self.startsWith('https://')",
                        message: 'alertmanager.url must start with http:// or https://',
                      },
                    ],
                  },
                  urlSecretRef: {
                    type: 'object',
                    description:
                      "Secret key holding Alertmanager's URL, credentials included. Key defaults to url.",
                    required: ['name'],
                    properties: {
                      name: {
                        type: 'string',
                        description: 'Name of the Secret, in the same namespace as this resource.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                      key: {
                        type: 'string',
                        description:
                          "Key within the Secret. Defaults to the key named in the field's description.",
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                    },
                  },
                  resolveAfter: {
                    type: 'string',
                    description:
                      'An open anomaly not seen again for this long is resolved in Alertmanager (its status in the agent\'s store is unchanged). Default "1h".',
                    maxLength: 32,
                    pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                    default: '1h',
                  },
                  runbookBaseUrl: {
                    type: 'string',
                    description:
                      "Base of each alert's runbook_url annotation, followed by '#' and the rule's id. Unset links to the rule's section of docs/rules.md.",
                    maxLength: 2048,
                    'x-kubernetes-validations': [
                      {
                        rule: "self.startsWith('http://') || self.startsWith('https://')",
                        message: 'alertmanager.runbookBaseUrl must start with http:// or https://',
                      },
                    ],
                  },
                },
              },
              cooldown: {
                type: 'string',
                description:
                  'Least time between two alerts for the same device and anomaly kind. Default "15m".',
                maxLength: 32,
                pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                default: '15m',
              },
            },
          },
          resources: {
            type: 'object',
            description:
              'CPU and memory requests and limits for each pod. Defaults suit a Raspberry Pi 5; requests must not exceed limits.',
            'x-kubernetes-validations': [
              {
                rule: '!has(self.requests) || !has(self.limits) || self.requests.all(r, !(r in self.limits) || quantity(string(self.requests[r])).compareTo(quantity(string(self.limits[r]))) <= 0)',
                message: 'each request must not exceed its limit',
              },
            ],
            properties: {
              requests: {
                type: 'object',
                description:
                  'Minimum resources the scheduler reserves, by resource name (cpu, memory).',
                maxProperties: 4,
                additionalProperties: {
                  'x-kubernetes-int-or-string': true,
                  description:
                    'A Kubernetes quantity such as "512Mi", "2Gi" or a plain number of bytes; never negative.',
                  maxLength: 32,
                  minimum: 0,
                  pattern:
                    '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
                  anyOf: [{ type: 'integer' }, { type: 'string' }],
                },
              },
              limits: {
                type: 'object',
                description: 'Maximum resources the pod may use, by resource name (cpu, memory).',
                maxProperties: 4,
                additionalProperties: {
                  'x-kubernetes-int-or-string': true,
                  description:
                    'A Kubernetes quantity such as "512Mi", "2Gi" or a plain number of bytes; never negative.',
                  maxLength: 32,
                  minimum: 0,
                  pattern:
                    '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
                  anyOf: [{ type: 'integer' }, { type: 'string' }],
                },
              },
            },
            default: {
              requests: { cpu: '50m', memory: '128Mi' },
              limits: { cpu: '500m', memory: '384Mi' },
            },
          },
          nodeSelector: {
            type: 'object',
            description:
              'Labels a node must carry for the pods to be scheduled on it, for example kubernetes.io/arch=arm64.',
            maxProperties: 32,
            additionalProperties: { type: 'string', maxLength: 63 },
          },
          tolerations: {
            type: 'array',
            description: 'Taints the pods tolerate, as in a Pod spec.',
            maxItems: 32,
            items: {
              type: 'object',
              description: 'A toleration, as in a Pod spec.',
              properties: {
                key: {
                  type: 'string',
                  description:
                    'Taint key the toleration applies to; empty matches all keys (with operator Exists).',
                  maxLength: 317,
                },
                operator: {
                  type: 'string',
                  description: 'Exists or Equal (default Equal).',
                  enum: ['Exists', 'Equal'],
                  maxLength: 6,
                },
                value: {
                  type: 'string',
                  description: 'Taint value to match when operator is Equal.',
                  maxLength: 63,
                },
                effect: {
                  type: 'string',
                  description: 'Taint effect to match; empty matches all effects.',
                  enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute', ''],
                  maxLength: 16,
                },
                tolerationSeconds: {
                  type: 'integer',
                  format: 'int64',
                  description:
                    'For NoExecute, how long the pod stays bound after the taint appears.',
                  minimum: 0,
                },
              },
            },
          },
          storage: {
            type: 'object',
            description: 'Where each pod keeps its local SQLite anomaly store.',
            default: {},
            'x-kubernetes-validations': [
              {
                rule: "self.type == 'persistentVolumeClaim' || !has(self.storageClassName)",
                message: 'storageClassName applies only to type persistentVolumeClaim',
                fieldPath: '.storageClassName',
              },
            ],
            properties: {
              type: {
                type: 'string',
                description:
                  'emptyDir (lost when the pod is deleted) or persistentVolumeClaim (one claim per pod, kept).',
                enum: ['emptyDir', 'persistentVolumeClaim'],
                default: 'emptyDir',
                maxLength: 21,
              },
              size: {
                'x-kubernetes-int-or-string': true,
                description:
                  "Size of the volume (the emptyDir size limit, or the claim's request).",
                maxLength: 32,
                minimum: 0,
                pattern:
                  '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
                anyOf: [{ type: 'integer' }, { type: 'string' }],
                default: '1Gi',
              },
              storageClassName: {
                type: 'string',
                description:
                  "StorageClass for the claims; unset uses the cluster's default (local-path on k3s).",
                maxLength: 253,
              },
              retention: {
                type: 'string',
                description:
                  'How long stored anomalies are kept, at least 1h. Default "720h" (30 days).',
                maxLength: 32,
                pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                default: '720h',
                'x-kubernetes-validations': [
                  {
                    rule: "duration(self) >= duration('1h')",
                    message: 'retention must be at least 1h',
                  },
                ],
              },
            },
          },
        },
      },
      status: {
        type: 'object',
        description: 'What the operator last observed. Rebuilt from the world on every reconcile.',
        properties: {
          observedGeneration: {
            type: 'integer',
            format: 'int64',
            description:
              'The metadata.generation the controller last acted on. Wait for it to equal metadata.generation to know an edit has been seen.',
            minimum: 0,
          },
          conditions: {
            type: 'array',
            description:
              'Ready, SourceReachable, ModelLoaded, ModelDrift, RulesAccepted, StoreRecovered and Degraded.',
            maxItems: 16,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
            items: {
              type: 'object',
              description: "One aspect of the resource's state.",
              required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
              properties: {
                type: {
                  type: 'string',
                  description: 'Condition type in CamelCase, for example Ready.',
                  maxLength: 316,
                  pattern:
                    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
                },
                status: {
                  type: 'string',
                  description: 'True, False or Unknown.',
                  enum: ['True', 'False', 'Unknown'],
                  maxLength: 7,
                },
                observedGeneration: {
                  type: 'integer',
                  format: 'int64',
                  description:
                    'metadata.generation of the resource this condition was computed from.',
                  minimum: 0,
                },
                lastTransitionTime: {
                  type: 'string',
                  format: 'date-time',
                  description: 'When status last changed.',
                },
                reason: {
                  type: 'string',
                  description: 'Machine-readable CamelCase reason for the last transition.',
                  minLength: 1,
                  maxLength: 1024,
                  pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
                },
                message: {
                  type: 'string',
                  description: 'Human-readable details of the last transition.',
                  maxLength: 32768,
                },
              },
            },
          },
          replicas: {
            type: 'integer',
            format: 'int32',
            description: 'Agent pods that exist.',
            minimum: 0,
          },
          readyReplicas: {
            type: 'integer',
            format: 'int32',
            description: 'Agent pods that are ready.',
            minimum: 0,
          },
          selector: {
            type: 'string',
            description: 'Label selector of the agent pods, for the scale subresource.',
            maxLength: 1024,
          },
          modelVersion: {
            type: 'string',
            description:
              'Model version the agent pods report serving; while they serve different versions (during a rollout), each of them, comma-separated. Empty without spec.model and until a pod serves a model.',
            maxLength: 63,
          },
          lastCycleTime: {
            type: 'string',
            format: 'date-time',
            description: 'When the last analysis cycle of any pod finished.',
          },
          linesAnalyzed: {
            type: 'integer',
            format: 'int64',
            description:
              "Log lines analysed, summed over the analysis cycles recorded in the agent pods' stores (a pod whose emptyDir store is lost starts again from zero).",
            minimum: 0,
          },
          topRules: {
            type: 'array',
            description:
              'The detection rules that found most anomalies in the last 24 hours (at most five).',
            maxItems: 5,
            items: {
              type: 'object',
              required: ['rule', 'anomalies'],
              properties: {
                rule: {
                  type: 'string',
                  description: "The rule's id (edgewarden rules list shows them all).",
                  maxLength: 100,
                },
                anomalies: {
                  type: 'integer',
                  format: 'int64',
                  description: 'Anomalies it found in the last 24 hours, summed over the pods.',
                  minimum: 0,
                },
              },
            },
          },
          anomalies: {
            type: 'object',
            description: 'Anomalies stored by this agent.',
            properties: {
              total: {
                type: 'integer',
                format: 'int64',
                description:
                  "Anomalies the agent pods' stores hold now (they keep them for storage.retention).",
                minimum: 0,
              },
              last24h: {
                type: 'integer',
                format: 'int64',
                description: 'In the last 24 hours.',
                minimum: 0,
              },
            },
          },
        },
      },
    },
  },
  ExportJob: {
    type: 'object',
    description:
      'ExportJob exports router logs and/or stored anomalies as JSON, JSONL or CSV files (optionally gzip-compressed) to a PersistentVolumeClaim, through a Kubernetes Job, with progress in its status. Its spec cannot change once created: create a new ExportJob instead.',
    'x-kubernetes-validations': [
      {
        rule: 'self.metadata.name.size() <= 63',
        message: 'metadata.name must be at most 63 characters, because it becomes a label value',
      },
    ],
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object: edgewarden.io/v1alpha1.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents.',
      },
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        description: 'What to export, in which shape, and where to.',
        required: ['dataTypes', 'timeRange', 'destination'],
        'x-kubernetes-validations': [
          { rule: 'self == oldSelf', message: 'spec is immutable; create a new ExportJob instead' },
          {
            rule: "!self.dataTypes.exists(t, t == 'logs') || has(self.source)",
            message:
              'exporting logs needs source.analysisAgentRef, the AnalysisAgent whose source to read',
            fieldPath: '.source',
          },
        ],
        properties: {
          source: {
            type: 'object',
            description:
              "Where the logs are: read as the named AnalysisAgent reads them (its Secret, TLS settings, table and columns, so the same allowed tables). Needed when dataTypes has logs. Anomalies come from the anomaly stores of the namespace's AnalysisAgents (filters.agents narrows them).",
            required: ['analysisAgentRef'],
            properties: {
              analysisAgentRef: {
                type: 'object',
                description: 'An AnalysisAgent in the same namespace.',
                required: ['name'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the AnalysisAgent.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                },
              },
            },
          },
          dataTypes: {
            type: 'array',
            description:
              'What to export: logs (the router log lines), anomalies (what the agents found), or both.',
            minItems: 1,
            maxItems: 2,
            'x-kubernetes-list-type': 'set',
            items: { type: 'string', enum: ['logs', 'anomalies'], maxLength: 9 },
          },
          timeRange: {
            type: 'object',
            description: 'The time window to export. Set last, or from (and optionally to).',
            'x-kubernetes-validations': [
              {
                rule: 'has(self.last) != has(self.from)',
                message: 'set exactly one of timeRange.last or timeRange.from',
              },
              {
                rule: '!has(self.to) || has(self.from)',
                message: 'timeRange.to needs timeRange.from',
                fieldPath: '.to',
              },
              {
                rule: '!has(self.to) || !has(self.from) || timestamp(self.from) < timestamp(self.to)',
                message: 'timeRange.from must be before timeRange.to',
                fieldPath: '.to',
              },
            ],
            properties: {
              from: {
                type: 'string',
                format: 'date-time',
                description: 'Start of the window, inclusive (RFC 3339).',
              },
              to: {
                type: 'string',
                format: 'date-time',
                description:
                  'End of the window, exclusive (RFC 3339). Defaults to when the export starts.',
              },
              last: {
                type: 'string',
                description:
                  'The window ending when the export starts, for example "24h" (at most 8760h).',
                maxLength: 32,
                pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                'x-kubernetes-validations': [
                  {
                    rule: "duration(self) > duration('0s') && duration(self) <= duration('8760h')",
                    message: 'last must be more than 0s and at most 8760h',
                  },
                ],
              },
            },
          },
          filters: {
            type: 'object',
            description: 'Narrow what is exported. Every filter that is set must match.',
            properties: {
              programs: {
                type: 'array',
                description: 'Only lines (or anomalies) from these programs.',
                maxItems: 64,
                'x-kubernetes-list-type': 'set',
                items: { type: 'string', maxLength: 64 },
              },
              devices: {
                type: 'array',
                description: 'Only these devices (host names or addresses).',
                maxItems: 256,
                'x-kubernetes-list-type': 'set',
                items: { type: 'string', maxLength: 253 },
              },
              levels: {
                type: 'array',
                description: 'Only log lines of these syslog levels.',
                maxItems: 8,
                'x-kubernetes-list-type': 'set',
                items: {
                  type: 'string',
                  enum: ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'],
                  maxLength: 7,
                },
              },
              agents: {
                type: 'array',
                description: 'Only anomalies found by these agent kinds.',
                maxItems: 6,
                'x-kubernetes-list-type': 'set',
                items: {
                  type: 'string',
                  description:
                    'Built-in analysis agent. wifi: hostapd / wpa_supplicant association churn, wrong passwords, deauthentication floods. dns: dnsmasq DNS and DHCP (pool exhaustion, rogue clients, tunnelling, rebinding). auth: dropbear and LuCI logins (brute force, credential stuffing). firewall: fw4 / nftables drops and rejects (port scans, floods). system: netifd, procd and kernel (WAN flaps, crashes, memory pressure). template: generic log-template frequency model for any program.',
                  enum: ['wifi', 'dns', 'auth', 'firewall', 'system', 'template'],
                  maxLength: 8,
                },
              },
              minSeverity: {
                type: 'string',
                description: 'Only anomalies at least this severe.',
                enum: ['info', 'low', 'medium', 'high', 'critical'],
                maxLength: 8,
              },
            },
          },
          format: {
            type: 'string',
            description:
              'json: one JSON array per file. jsonl: one JSON object per line. csv: RFC 4180 with a header row.',
            enum: ['json', 'jsonl', 'csv'],
            default: 'jsonl',
            maxLength: 5,
          },
          compression: {
            type: 'string',
            description: 'none, or gzip (files end in .gz).',
            enum: ['none', 'gzip'],
            default: 'none',
            maxLength: 4,
          },
          batchSize: {
            type: 'integer',
            format: 'int32',
            description: 'Records read and written per batch; progress is reported after each.',
            default: 1000,
            minimum: 10,
            maximum: 50000,
          },
          maxFileSize: {
            'x-kubernetes-int-or-string': true,
            description:
              'Start a new file when one reaches this size (before compression), for example 100Mi.',
            maxLength: 32,
            minimum: 0,
            pattern:
              '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
            anyOf: [{ type: 'integer' }, { type: 'string' }],
            default: '100Mi',
          },
          transform: {
            type: 'object',
            description: 'Changes applied to each record on the way out.',
            default: {},
            properties: {
              timestamps: {
                type: 'string',
                description:
                  'utc rewrites every timestamp as RFC 3339 in UTC; keep writes them as stored.',
                enum: ['utc', 'keep'],
                default: 'utc',
                maxLength: 4,
              },
              hashAddresses: {
                type: 'boolean',
                description:
                  'Replace MAC and IP addresses with a keyed hash (HMAC-SHA-256), so records stay joinable but not identifiable. Defaults to true; set false to export the addresses as stored.',
                default: true,
              },
              hashKeySecretRef: {
                type: 'object',
                description:
                  'Secret key holding the hashing key. Key defaults to key. Without it a random key is made per export.',
                required: ['name'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the Secret, in the same namespace as this resource.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                  key: {
                    type: 'string',
                    description:
                      "Key within the Secret. Defaults to the key named in the field's description.",
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                },
              },
            },
          },
          destination: {
            type: 'object',
            description: 'Where the files are written.',
            required: ['persistentVolumeClaim', 'path'],
            properties: {
              persistentVolumeClaim: {
                type: 'object',
                description: 'The claim the export Job mounts.',
                required: ['claimName'],
                properties: {
                  claimName: {
                    type: 'string',
                    description: 'Name of a PersistentVolumeClaim in the same namespace.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                },
              },
              path: {
                type: 'string',
                description:
                  'Folder inside the volume, relative, without "..". Created if missing.',
                minLength: 1,
                maxLength: 1024,
                pattern: '^[^/]',
                'x-kubernetes-validations': [
                  {
                    rule: "!self.split('/').exists(p, p == '..')",
                    message: "path must not contain '..'",
                  },
                ],
              },
            },
          },
          ttlSecondsAfterFinished: {
            type: 'integer',
            format: 'int32',
            description:
              'Delete this ExportJob, its Job and its files this many seconds after it finishes (a finalizer removes the files first). Unset keeps them all.',
            minimum: 0,
            maximum: 31536000,
          },
          activeDeadlineSeconds: {
            type: 'integer',
            format: 'int64',
            description: 'Fail the export if it runs longer than this.',
            default: 3600,
            minimum: 1,
            maximum: 604800,
          },
          backoffLimit: {
            type: 'integer',
            format: 'int32',
            description:
              'Retries before the export is marked failed. A retry resumes after the last complete batch.',
            default: 2,
            minimum: 0,
            maximum: 10,
          },
        },
      },
      status: {
        type: 'object',
        description:
          'What the operator last observed. Rebuilt from the Job and its reports on every reconcile.',
        properties: {
          observedGeneration: {
            type: 'integer',
            format: 'int64',
            description:
              'The metadata.generation the controller last acted on. Wait for it to equal metadata.generation to know an edit has been seen.',
            minimum: 0,
          },
          conditions: {
            type: 'array',
            description: 'Running, Succeeded and Failed.',
            maxItems: 16,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
            items: {
              type: 'object',
              description: "One aspect of the resource's state.",
              required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
              properties: {
                type: {
                  type: 'string',
                  description: 'Condition type in CamelCase, for example Ready.',
                  maxLength: 316,
                  pattern:
                    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
                },
                status: {
                  type: 'string',
                  description: 'True, False or Unknown.',
                  enum: ['True', 'False', 'Unknown'],
                  maxLength: 7,
                },
                observedGeneration: {
                  type: 'integer',
                  format: 'int64',
                  description:
                    'metadata.generation of the resource this condition was computed from.',
                  minimum: 0,
                },
                lastTransitionTime: {
                  type: 'string',
                  format: 'date-time',
                  description: 'When status last changed.',
                },
                reason: {
                  type: 'string',
                  description: 'Machine-readable CamelCase reason for the last transition.',
                  minLength: 1,
                  maxLength: 1024,
                  pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
                },
                message: {
                  type: 'string',
                  description: 'Human-readable details of the last transition.',
                  maxLength: 32768,
                },
              },
            },
          },
          phase: {
            type: 'string',
            description:
              'Pending, Running, Succeeded or Failed; derived from the conditions, for printing only.',
            enum: ['Pending', 'Running', 'Succeeded', 'Failed'],
            maxLength: 9,
          },
          progress: {
            type: 'object',
            description: 'How far the export is.',
            properties: {
              recordsDone: {
                type: 'integer',
                format: 'int64',
                description: 'Records written so far.',
                minimum: 0,
              },
              recordsTotal: {
                type: 'integer',
                format: 'int64',
                description: 'Records to write, counted when the export starts.',
                minimum: 0,
              },
              percent: {
                type: 'integer',
                format: 'int32',
                description: 'recordsDone as a percentage of recordsTotal.',
                minimum: 0,
                maximum: 100,
              },
              bytes: {
                type: 'integer',
                format: 'int64',
                description: 'Bytes written so far (after compression).',
                minimum: 0,
              },
              summary: {
                type: 'string',
                description:
                  'Percent and records, for example "45% (4500/10000)"; derived, for printing only.',
                maxLength: 64,
              },
            },
          },
          startTime: {
            type: 'string',
            format: 'date-time',
            description: 'When the export started.',
          },
          completionTime: {
            type: 'string',
            format: 'date-time',
            description: 'When the export finished, successfully or not.',
          },
          files: {
            type: 'array',
            description: 'The files written, in order.',
            maxItems: 10000,
            items: {
              type: 'object',
              description: 'One file written.',
              required: ['name'],
              properties: {
                name: {
                  type: 'string',
                  description: 'Path of the file relative to destination.path.',
                  maxLength: 1024,
                },
                records: {
                  type: 'integer',
                  format: 'int64',
                  description: 'Records in the file.',
                  minimum: 0,
                },
                bytes: {
                  type: 'integer',
                  format: 'int64',
                  description: 'Size of the file in bytes.',
                  minimum: 0,
                },
                sha256: { type: 'string', description: 'Hex SHA-256 of the file.', maxLength: 64 },
              },
            },
          },
          validation: {
            type: 'object',
            description: 'Checks run on the exported records.',
            properties: {
              rows: {
                type: 'integer',
                format: 'int64',
                description: 'Records checked.',
                minimum: 0,
              },
              nullRates: {
                type: 'object',
                description: 'Share of records (0 to 1) with each field empty, by field name.',
                maxProperties: 64,
                additionalProperties: { type: 'number' },
              },
              duplicates: {
                type: 'integer',
                format: 'int64',
                description: 'Records that repeat an earlier record exactly.',
                minimum: 0,
              },
              rejectedRows: {
                type: 'integer',
                format: 'int64',
                description: 'Records skipped because they could not be read or converted.',
                minimum: 0,
              },
              rejected: {
                type: 'object',
                description: 'Records skipped, by reason.',
                maxProperties: 32,
                additionalProperties: { type: 'integer', format: 'int64' },
              },
              outOfRange: {
                type: 'integer',
                format: 'int64',
                description: 'Records whose time fell outside the window (skipped).',
                minimum: 0,
              },
            },
          },
          expiresAt: {
            type: 'string',
            format: 'date-time',
            description: 'When this ExportJob will be deleted (from ttlSecondsAfterFinished).',
          },
        },
      },
    },
  },
  ModelDeployment: {
    type: 'object',
    description:
      'ModelDeployment rolls one ONNX anomaly model out to the AnalysisAgents that reference it, hot, without restarting them. Edit spec.version and spec.source to roll forward; set them back to roll back. A model that fails to load is refused and the previous one keeps serving.',
    'x-kubernetes-validations': [
      {
        rule: 'self.metadata.name.size() <= 63',
        message: 'metadata.name must be at most 63 characters, because it becomes a label value',
      },
    ],
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object: edgewarden.io/v1alpha1.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents.',
      },
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        description: 'The model to serve and how to roll it out.',
        required: ['agent', 'version', 'source', 'features'],
        properties: {
          agent: {
            type: 'string',
            description:
              'Agent kind this model serves; only AnalysisAgents of this kind may reference it.',
            enum: ['wifi', 'dns', 'auth', 'firewall', 'system', 'template'],
            maxLength: 8,
          },
          selector: {
            type: 'object',
            description:
              'Which of the AnalysisAgents that reference this deployment (spec.model.name) it serves, by their labels. Unset serves all of them.',
            'x-kubernetes-map-type': 'atomic',
            properties: {
              matchLabels: {
                type: 'object',
                description: 'Labels that must all be present with these values.',
                maxProperties: 32,
                additionalProperties: { type: 'string', maxLength: 63 },
              },
              matchExpressions: {
                type: 'array',
                description: 'Requirements that must all hold.',
                maxItems: 16,
                items: {
                  type: 'object',
                  description: 'A requirement on one label.',
                  required: ['key', 'operator'],
                  properties: {
                    key: { type: 'string', description: 'The label key.', maxLength: 317 },
                    operator: {
                      type: 'string',
                      description: 'In, NotIn, Exists or DoesNotExist.',
                      enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
                      maxLength: 12,
                    },
                    values: {
                      type: 'array',
                      description: 'Values for In and NotIn; empty for Exists and DoesNotExist.',
                      maxItems: 64,
                      items: { type: 'string', maxLength: 63 },
                    },
                  },
                },
              },
            },
          },
          version: {
            type: 'string',
            description:
              'Version label of the model, for example 2026.11.1. Shown in status and metrics.',
            minLength: 1,
            maxLength: 63,
            pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$',
          },
          source: {
            type: 'object',
            description:
              'Where the ONNX model bytes are, and optionally its manifest.json (as edgewarden train or training/train_sklearn.py wrote it) beside them. Set exactly one of configMap, secret, http, persistentVolumeClaim.',
            'x-kubernetes-validations': [
              {
                rule: '[has(self.configMap), has(self.secret), has(self.http), has(self.persistentVolumeClaim)].filter(x, x).size() == 1',
                message:
                  'set exactly one of source.configMap, source.secret, source.http, source.persistentVolumeClaim',
              },
            ],
            properties: {
              configMap: {
                type: 'object',
                description:
                  'A binaryData key of a ConfigMap in the same namespace (models up to about 1 MiB). The ConfigMap must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.',
                required: ['name', 'key'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the ConfigMap.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                  key: {
                    type: 'string',
                    description: 'Key holding the ONNX bytes.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                  manifestKey: {
                    type: 'string',
                    description:
                      "Key of the same ConfigMap holding the model's manifest.json, for example manifest.json. Optional. The agents serve the model with its output mapping (which output holds the score, and its scale and shift) and its training summary, so it scores as it does from its folder and is checked for drift; without a spec.threshold, its threshold applies. Its agent, features (in order) and sha256 must match the spec and the bytes.",
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                },
              },
              secret: {
                type: 'object',
                description:
                  'A key of a Secret in the same namespace holding the ONNX bytes (models up to about 1 MiB). The Secret must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.',
                required: ['name', 'key'],
                properties: {
                  name: {
                    type: 'string',
                    description: 'Name of the Secret.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                  key: {
                    type: 'string',
                    description: 'Key holding the ONNX bytes.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                  manifestKey: {
                    type: 'string',
                    description:
                      "Key of the same Secret holding the model's manifest.json. Optional; see configMap.manifestKey.",
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[-._a-zA-Z0-9]+$',
                  },
                },
              },
              http: {
                type: 'object',
                description:
                  "An HTTP(S) URL the agents download the model from, checked against its sha256. A manifestUrl needs its manifestSha256 as the model's URL needs its sha256.",
                required: ['url', 'sha256'],
                'x-kubernetes-validations': [
                  {
                    rule: 'has(self.manifestUrl) == has(self.manifestSha256)',
                    message: 'manifestUrl and manifestSha256 go together; set both or neither',
                    fieldPath: '.manifestSha256',
                  },
                ],
                properties: {
                  url: {
                    type: 'string',
                    description: 'URL of the .onnx file. Use https:// outside a trusted network.',
                    maxLength: 2048,
                    pattern: '^https?://[^\\s]+$',
                  },
                  sha256: {
                    type: 'string',
                    description:
                      'Hex SHA-256 of the file; a download that does not match is refused.',
                    minLength: 64,
                    maxLength: 64,
                    pattern: '^[a-f0-9]{64}$',
                  },
                  manifestUrl: {
                    type: 'string',
                    description:
                      "URL of the model's manifest.json, downloaded by the agents as the model is. Optional; see configMap.manifestKey. Needs manifestSha256.",
                    maxLength: 2048,
                    pattern: '^https?://[^\\s]+$',
                  },
                  manifestSha256: {
                    type: 'string',
                    description:
                      "Hex SHA-256 of the manifest.json at manifestUrl, required with it: the manifest sets the model's threshold and output scale, so a download whose bytes differ is refused (reason DigestMismatch) and the model serving keeps serving.",
                    minLength: 64,
                    maxLength: 64,
                    pattern: '^[a-f0-9]{64}$',
                  },
                },
              },
              persistentVolumeClaim: {
                type: 'object',
                description:
                  'A file on a PersistentVolumeClaim in the same namespace, mounted read-only into the agent pods.',
                required: ['claimName', 'path'],
                properties: {
                  claimName: {
                    type: 'string',
                    description: 'Name of the PersistentVolumeClaim.',
                    minLength: 1,
                    maxLength: 253,
                    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                  },
                  path: {
                    type: 'string',
                    description:
                      'Path of the .onnx file inside the volume, relative, without "..".',
                    minLength: 1,
                    maxLength: 1024,
                    pattern: '^[^/]',
                    'x-kubernetes-validations': [
                      {
                        rule: "!self.split('/').exists(p, p == '..')",
                        message: "path must not contain '..'",
                      },
                    ],
                  },
                  manifestPath: {
                    type: 'string',
                    description:
                      'Path of the model\'s manifest.json inside the volume, relative, without "..". Optional; see configMap.manifestKey.',
                    minLength: 1,
                    maxLength: 1024,
                    pattern: '^[^/]',
                    'x-kubernetes-validations': [
                      {
                        rule: "!self.split('/').exists(p, p == '..')",
                        message: "manifestPath must not contain '..'",
                      },
                    ],
                  },
                },
              },
            },
          },
          features: {
            type: 'array',
            description:
              'Ordered names of the input features the model expects; the agent builds each input row in this order. A model whose input width differs is refused.',
            minItems: 1,
            maxItems: 256,
            'x-kubernetes-list-type': 'set',
            items: { type: 'string', maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' },
          },
          threshold: {
            type: 'number',
            description:
              "Anomaly score threshold (0 to 1) for this model; overrides the agents' thresholds.score. Unset: the threshold of the model's manifest.json when the source names one (manifestKey, manifestUrl, manifestPath), else the agents' thresholds.score.",
            minimum: 0,
            maximum: 1,
          },
          rollout: {
            type: 'object',
            description: 'How a new version reaches the agents.',
            default: {},
            'x-kubernetes-validations': [
              {
                rule: "self.strategy == 'Canary' || !has(self.canary)",
                message: 'canary may only be set when strategy is Canary',
                fieldPath: '.canary',
              },
            ],
            properties: {
              strategy: {
                type: 'string',
                description:
                  'AllAtOnce loads the new version in every agent pod at once; Canary moves a share of the pods at a time and watches them.',
                enum: ['AllAtOnce', 'Canary'],
                default: 'AllAtOnce',
                maxLength: 9,
              },
              canary: {
                type: 'object',
                description: 'Settings of the Canary strategy.',
                properties: {
                  stepPercent: {
                    type: 'integer',
                    format: 'int32',
                    description:
                      'Share of the agent pods moved to the new version per step, in percent.',
                    default: 25,
                    minimum: 1,
                    maximum: 100,
                  },
                  analysisWindow: {
                    type: 'string',
                    description:
                      'How long each step is watched (load errors, inference errors, anomaly rate) before the next. Between 30s and 24h; default "10m".',
                    maxLength: 32,
                    pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
                    default: '10m',
                    'x-kubernetes-validations': [
                      {
                        rule: "duration(self) >= duration('30s') && duration(self) <= duration('24h')",
                        message: 'analysisWindow must be between 30s and 24h',
                      },
                    ],
                  },
                },
              },
              autoRollback: {
                type: 'boolean',
                description: 'Return to the previous version by itself when a step fails.',
                default: true,
              },
            },
          },
          revisionHistoryLimit: {
            type: 'integer',
            format: 'int32',
            description: 'How many past versions status.history keeps.',
            default: 10,
            minimum: 0,
            maximum: 100,
          },
        },
      },
      status: {
        type: 'object',
        description:
          'What the operator last observed, and the rollout state it keeps (stable, rollout) to resume after a restart.',
        properties: {
          observedGeneration: {
            type: 'integer',
            format: 'int64',
            description:
              'The metadata.generation the controller last acted on. Wait for it to equal metadata.generation to know an edit has been seen.',
            minimum: 0,
          },
          conditions: {
            type: 'array',
            description: 'Ready, Validated and RolledOut.',
            maxItems: 16,
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
            items: {
              type: 'object',
              description: "One aspect of the resource's state.",
              required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
              properties: {
                type: {
                  type: 'string',
                  description: 'Condition type in CamelCase, for example Ready.',
                  maxLength: 316,
                  pattern:
                    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
                },
                status: {
                  type: 'string',
                  description: 'True, False or Unknown.',
                  enum: ['True', 'False', 'Unknown'],
                  maxLength: 7,
                },
                observedGeneration: {
                  type: 'integer',
                  format: 'int64',
                  description:
                    'metadata.generation of the resource this condition was computed from.',
                  minimum: 0,
                },
                lastTransitionTime: {
                  type: 'string',
                  format: 'date-time',
                  description: 'When status last changed.',
                },
                reason: {
                  type: 'string',
                  description: 'Machine-readable CamelCase reason for the last transition.',
                  minLength: 1,
                  maxLength: 1024,
                  pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
                },
                message: {
                  type: 'string',
                  description: 'Human-readable details of the last transition.',
                  maxLength: 32768,
                },
              },
            },
          },
          activeVersion: {
            type: 'string',
            description: 'Version the agents serve now.',
            maxLength: 63,
          },
          targetVersion: {
            type: 'string',
            description: 'Version the spec asks for.',
            maxLength: 63,
          },
          transition: {
            type: 'string',
            description:
              'UpToDate: every agent serves the target. InProgress: rolling out. BlockedByFailedLoad: the target failed to validate or load and the previous version keeps serving. RolledBack: a canary step of the target failed its analysis and the previous version serves again. InvalidSpec: the spec cannot be acted on until it changes.',
            enum: ['UpToDate', 'InProgress', 'BlockedByFailedLoad', 'RolledBack', 'InvalidSpec'],
            maxLength: 19,
          },
          lastFailure: {
            type: 'object',
            description: 'The last failure to validate, load or roll out a version.',
            properties: {
              reason: {
                type: 'string',
                description:
                  'CamelCase reason, for example ChecksumMismatch or InputShapeMismatch.',
                maxLength: 128,
              },
              message: { type: 'string', description: 'What went wrong.', maxLength: 32768 },
              time: { type: 'string', format: 'date-time', description: 'When it happened.' },
            },
          },
          updatedAgents: {
            type: 'integer',
            format: 'int32',
            description: 'Agent pods serving the target version.',
            minimum: 0,
          },
          totalAgents: {
            type: 'integer',
            format: 'int32',
            description: 'Agent pods this model serves.',
            minimum: 0,
          },
          history: {
            type: 'array',
            description: 'Versions tried and served, newest first, at most revisionHistoryLimit.',
            maxItems: 100,
            items: {
              type: 'object',
              description: 'One version tried or served.',
              required: ['version'],
              properties: {
                version: { type: 'string', description: 'The version label.', maxLength: 63 },
                sha256: {
                  type: 'string',
                  description: 'SHA-256 of the model bytes that served.',
                  maxLength: 64,
                },
                servedFrom: {
                  type: 'string',
                  format: 'date-time',
                  description: 'When it started serving.',
                },
                servedUntil: {
                  type: 'string',
                  format: 'date-time',
                  description: 'When it stopped serving; unset while it serves.',
                },
                outcome: {
                  type: 'string',
                  description:
                    'Serving: it serves now. Replaced: a later version took over. RolledBack: a canary of it failed its analysis. Refused: it failed validation and never served.',
                  enum: ['Serving', 'Replaced', 'RolledBack', 'Refused'],
                  maxLength: 10,
                },
                reason: {
                  type: 'string',
                  description: 'Why it was rolled back or refused.',
                  maxLength: 1024,
                },
              },
            },
          },
          stable: {
            type: 'object',
            description:
              'The last version that completed a rollout, as it was specified: what every agent serves outside a rollout, and what a rollback returns to. Kept by the operator.',
            required: ['version', 'sha256', 'features', 'source'],
            properties: {
              version: { type: 'string', description: 'The version label.', maxLength: 63 },
              sha256: { type: 'string', description: 'SHA-256 of its bytes.', maxLength: 64 },
              features: {
                type: 'array',
                description: 'Its input features, in order.',
                maxItems: 256,
                items: { type: 'string', maxLength: 64 },
              },
              threshold: { type: 'number', description: 'Its threshold, when the spec set one.' },
              source: {
                type: 'object',
                description: 'Where its bytes were.',
                'x-kubernetes-validations': [
                  {
                    rule: '[has(self.configMap), has(self.secret), has(self.http), has(self.persistentVolumeClaim)].filter(x, x).size() == 1',
                    message:
                      'set exactly one of source.configMap, source.secret, source.http, source.persistentVolumeClaim',
                  },
                ],
                properties: {
                  configMap: {
                    type: 'object',
                    description:
                      'A binaryData key of a ConfigMap in the same namespace (models up to about 1 MiB). The ConfigMap must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.',
                    required: ['name', 'key'],
                    properties: {
                      name: {
                        type: 'string',
                        description: 'Name of the ConfigMap.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                      key: {
                        type: 'string',
                        description: 'Key holding the ONNX bytes.',
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                      manifestKey: {
                        type: 'string',
                        description:
                          "Key of the same ConfigMap holding the model's manifest.json, for example manifest.json. Optional. The agents serve the model with its output mapping (which output holds the score, and its scale and shift) and its training summary, so it scores as it does from its folder and is checked for drift; without a spec.threshold, its threshold applies. Its agent, features (in order) and sha256 must match the spec and the bytes.",
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                    },
                  },
                  secret: {
                    type: 'object',
                    description:
                      'A key of a Secret in the same namespace holding the ONNX bytes (models up to about 1 MiB). The Secret must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.',
                    required: ['name', 'key'],
                    properties: {
                      name: {
                        type: 'string',
                        description: 'Name of the Secret.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                      key: {
                        type: 'string',
                        description: 'Key holding the ONNX bytes.',
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                      manifestKey: {
                        type: 'string',
                        description:
                          "Key of the same Secret holding the model's manifest.json. Optional; see configMap.manifestKey.",
                        minLength: 1,
                        maxLength: 253,
                        pattern: '^[-._a-zA-Z0-9]+$',
                      },
                    },
                  },
                  http: {
                    type: 'object',
                    description:
                      "An HTTP(S) URL the agents download the model from, checked against its sha256. A manifestUrl needs its manifestSha256 as the model's URL needs its sha256.",
                    required: ['url', 'sha256'],
                    'x-kubernetes-validations': [
                      {
                        rule: 'has(self.manifestUrl) == has(self.manifestSha256)',
                        message: 'manifestUrl and manifestSha256 go together; set both or neither',
                        fieldPath: '.manifestSha256',
                      },
                    ],
                    properties: {
                      url: {
                        type: 'string',
                        description:
                          'URL of the .onnx file. Use https:// outside a trusted network.',
                        maxLength: 2048,
                        pattern: '^https?://[^\\s]+$',
                      },
                      sha256: {
                        type: 'string',
                        description:
                          'Hex SHA-256 of the file; a download that does not match is refused.',
                        minLength: 64,
                        maxLength: 64,
                        pattern: '^[a-f0-9]{64}$',
                      },
                      manifestUrl: {
                        type: 'string',
                        description:
                          "URL of the model's manifest.json, downloaded by the agents as the model is. Optional; see configMap.manifestKey. Needs manifestSha256.",
                        maxLength: 2048,
                        pattern: '^https?://[^\\s]+$',
                      },
                      manifestSha256: {
                        type: 'string',
                        description:
                          "Hex SHA-256 of the manifest.json at manifestUrl, required with it: the manifest sets the model's threshold and output scale, so a download whose bytes differ is refused (reason DigestMismatch) and the model serving keeps serving.",
                        minLength: 64,
                        maxLength: 64,
                        pattern: '^[a-f0-9]{64}$',
                      },
                    },
                  },
                  persistentVolumeClaim: {
                    type: 'object',
                    description:
                      'A file on a PersistentVolumeClaim in the same namespace, mounted read-only into the agent pods.',
                    required: ['claimName', 'path'],
                    properties: {
                      claimName: {
                        type: 'string',
                        description: 'Name of the PersistentVolumeClaim.',
                        minLength: 1,
                        maxLength: 253,
                        pattern:
                          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
                      },
                      path: {
                        type: 'string',
                        description:
                          'Path of the .onnx file inside the volume, relative, without "..".',
                        minLength: 1,
                        maxLength: 1024,
                        pattern: '^[^/]',
                        'x-kubernetes-validations': [
                          {
                            rule: "!self.split('/').exists(p, p == '..')",
                            message: "path must not contain '..'",
                          },
                        ],
                      },
                      manifestPath: {
                        type: 'string',
                        description:
                          'Path of the model\'s manifest.json inside the volume, relative, without "..". Optional; see configMap.manifestKey.',
                        minLength: 1,
                        maxLength: 1024,
                        pattern: '^[^/]',
                        'x-kubernetes-validations': [
                          {
                            rule: "!self.split('/').exists(p, p == '..')",
                            message: "manifestPath must not contain '..'",
                          },
                        ],
                      },
                    },
                  },
                },
              },
            },
          },
          rollout: {
            type: 'object',
            description:
              'The rollout of the target in progress or last finished: kept in status so that an operator restarted mid-rollout resumes where it was.',
            required: ['revision', 'phase'],
            properties: {
              revision: {
                type: 'string',
                description:
                  'Digest of the spec fields the rollout is for (version, source, features, threshold).',
                maxLength: 64,
              },
              phase: {
                type: 'string',
                description:
                  'Validating: tried on one agent pod without serving. Progressing: being delivered (a canary step is watched for its analysis window). Complete, Failed, RolledBack, or Halted (a canary step failed and autoRollback is off).',
                enum: ['Validating', 'Progressing', 'Complete', 'Failed', 'RolledBack', 'Halted'],
                maxLength: 11,
              },
              sha256: {
                type: 'string',
                description: "SHA-256 of the target's bytes, as validation found it.",
                maxLength: 64,
              },
              startedAt: {
                type: 'string',
                format: 'date-time',
                description: 'When this rollout began.',
              },
              step: {
                type: 'integer',
                format: 'int32',
                description: 'The canary step reached (1 is the first share of pods).',
                minimum: 0,
              },
              stepStartedAt: {
                type: 'string',
                format: 'date-time',
                description: "When the current canary step's pods all served the target.",
              },
              canaryPods: {
                type: 'array',
                description: 'The agent pods of the canary so far.',
                maxItems: 1024,
                items: { type: 'string', maxLength: 253 },
              },
              baselineRate: {
                type: 'number',
                description:
                  'Share of windows the previous version flagged on the canary pods before the switch.',
              },
            },
          },
        },
      },
    },
  },
};
