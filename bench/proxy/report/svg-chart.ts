/**
 * Horizontal grouped bar charts as SVG text (no dependency): one group per scenario, one bar per series,
 * the value printed at the end of each bar, an optional reference line (1.0 = nginx).
 */

export interface Series {
  readonly name: string;
  readonly color: string;
}

export interface BarGroup {
  readonly label: string;
  /** One value per series, in the series' order; null leaves a gap. */
  readonly values: ReadonlyArray<number | null>;
  /** What to print beside each bar (default: the panel's `format` of the value). */
  readonly labels?: ReadonlyArray<string>;
}

export interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  readonly groups: readonly BarGroup[];
  /** Draws a dashed line at this value (e.g. 1 for a ratio against nginx). */
  readonly reference?: number;
  /** How a value is printed beside its bar. */
  readonly format: (v: number) => string;
}

const BAR = 12;
const GAP = 10;
const LABEL_WIDTH = 130;
const PANEL_WIDTH = 460;
const TITLE_HEIGHT = 44;

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function panelHeight(p: Panel): number {
  return TITLE_HEIGHT + p.groups.length * (p.series.length * BAR + GAP) + 10;
}

function drawPanel(p: Panel, x0: number): string {
  const plotWidth = PANEL_WIDTH - LABEL_WIDTH - 120;
  const values = p.groups.flatMap((g) =>
    g.values.filter((v): v is number => v !== null && Number.isFinite(v)),
  );
  const max = Math.max(p.reference ?? 0, ...values, 1e-9);
  const scale = (v: number) => (v / max) * plotWidth;
  const parts: string[] = [
    `<text x="${x0}" y="16" font-weight="bold">${escapeXml(p.title)}</text>`,
    ...p.series.map(
      (s, i) =>
        `<rect x="${x0 + i * 110}" y="24" width="10" height="10" fill="${s.color}"/>` +
        `<text x="${x0 + i * 110 + 14}" y="33">${escapeXml(s.name)}</text>`,
    ),
  ];
  let y = TITLE_HEIGHT;
  for (const g of p.groups) {
    const groupHeight = p.series.length * BAR;
    parts.push(
      `<text x="${x0 + LABEL_WIDTH - 6}" y="${y + groupHeight / 2 + 4}" text-anchor="end">${escapeXml(g.label)}</text>`,
    );
    g.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const by = y + i * BAR;
      const w = Math.max(1, scale(v));
      parts.push(
        `<rect x="${x0 + LABEL_WIDTH}" y="${by + 1}" width="${w.toFixed(1)}" height="${BAR - 2}" fill="${p.series[i]?.color ?? "#888"}"/>`,
        `<text x="${(x0 + LABEL_WIDTH + w + 4).toFixed(1)}" y="${by + BAR - 2}" font-size="10">${escapeXml(g.labels?.[i] ?? p.format(v))}</text>`,
      );
    });
    y += groupHeight + GAP;
  }
  if (p.reference !== undefined) {
    const rx = x0 + LABEL_WIDTH + scale(p.reference);
    parts.push(
      `<line x1="${rx.toFixed(1)}" y1="${TITLE_HEIGHT - 4}" x2="${rx.toFixed(1)}" y2="${y}" stroke="#444" stroke-dasharray="4 3"/>`,
    );
  }
  return parts.join("\n");
}

/** Panels side by side, one SVG document; `caption` is printed under them and is its title. */
export function renderPanels(panels: readonly Panel[], caption: string): string {
  const height = Math.max(...panels.map(panelHeight)) + 24;
  const width = panels.length * PANEL_WIDTH + 20;
  const body = panels.map((p, i) => drawPanel(p, 10 + i * PANEL_WIDTH)).join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">
<title>${escapeXml(`${panels.map((p) => p.title).join("; ")}: ${caption}`)}</title>
<rect width="100%" height="100%" fill="#fff"/>
${body}
<text x="10" y="${height - 8}" font-size="10" fill="#555">${escapeXml(caption)}</text>
</svg>
`;
}
