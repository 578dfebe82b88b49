/**
 * A strict reader of Prometheus' text exposition format (0.0.4), enough to
 * check names, labels and values: any line it cannot read fails the test.
 */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: string
  help: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text)
    if (!m) throw new Error(`bad labels in: ${line}`)
    if (!LABEL_NAME.test(m[1]!) || m[1]!.startsWith('__')) throw new Error(`bad label name ${m[1]} in: ${line}`)
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
  }
  return labels
}

function parseValue(v: string, line: string): number {
  // Prometheus reads values with Go's ParseFloat: Inf and NaN in any case (prom-client writes "Nan").
  if (/^\+?inf$/i.test(v)) return Infinity
  if (/^-inf$/i.test(v)) return -Infinity
  if (/^nan$/i.test(v)) return NaN
  const n = Number(v)
  if (Number.isNaN(n)) throw new Error(`bad value in: ${line}`)
  return n
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  let current: Family | undefined
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`)
      current = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] }
      families.set(name, current)
      if (kind === 'HELP') current.help = rest
      else current.type = rest
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (!m) throw new Error(`unreadable line: ${line}`)
    const name = m[1]!
    const base = current && (name === current.name || ['_bucket', '_sum', '_count'].some((s) => name === current!.name + s)) ? current : undefined
    if (!base) throw new Error(`sample outside its family: ${line}`)
    base.samples.push({ name, labels: m[2] ? parseLabels(m[2], line) : {}, value: parseValue(m[3]!, line) })
  }
  return families
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value
    }
  }
  return undefined
}
