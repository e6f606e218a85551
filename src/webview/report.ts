/**
 * The ranking report page: how often the ranker's #1 was the person's pick, where picks fell in the
 * ranking, how agreement moves over time, and consensus beside each reward model. Charts are SVG
 * built with DOM calls (no library, no remote resource, nothing as markup); each chart is followed
 * by a table with the same numbers, which is what screen readers and keyboard users read.
 */
import type { Rate, RankingReport } from '../core/agreement';
import type { HostToReport, ReportToHost } from '../core/reportProtocol';
import { showHidden } from '../core/hiddenText';
import { button, el } from './dom';

declare function acquireVsCodeApi(): { postMessage(message: ReportToHost): void };
const vscode = acquireVsCodeApi();

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
	tag: K,
	attrs: Record<string, string | number>,
	className?: string,
): SVGElementTagNameMap[K] {
	const node = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
	if (className) node.setAttribute('class', className);
	return node;
}

function label(x: number, y: number, text: string, className: string, anchor: 'start' | 'middle' | 'end' = 'start'): SVGTextElement {
	const t = svg('text', { x, y, 'text-anchor': anchor }, className);
	t.textContent = showHidden(text); // ranker names come from the preference log, which anything can write
	return t;
}

const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(100 * x)}%` : '–');
const interval = (r: Rate) => `${pct(r.ci95[0])}–${pct(r.ci95[1])}`;
const count = (k: number) => (Number.isInteger(k) ? String(k) : k.toFixed(1));

/** A chart with its caption and the table that says the same in rows. */
function section(title: string, summary: string, chart: SVGSVGElement, head: string[], rows: string[][]): HTMLElement {
	const root = el('section', 'chart-section');
	const heading = el('h2');
	heading.textContent = title;
	const description = el('p', 'summary');
	description.textContent = summary;
	chart.setAttribute('role', 'img');
	chart.setAttribute('aria-label', `${title}. ${summary} The table below has the numbers.`);
	const table = el('table');
	const caption = el('caption', 'sr-only');
	caption.textContent = title;
	const thead = el('thead');
	const headRow = el('tr');
	for (const h of head) {
		const th = el('th', undefined, { scope: 'col' });
		th.textContent = h;
		headRow.append(th);
	}
	thead.append(headRow);
	const tbody = el('tbody');
	for (const row of rows) {
		const tr = el('tr');
		row.forEach((cell, i) => {
			const td = el(i === 0 ? 'th' : 'td', undefined, i === 0 ? { scope: 'row' } : {});
			td.textContent = showHidden(cell);
			tr.append(td);
		});
		tbody.append(tr);
	}
	table.append(caption, thead, tbody);
	// The table scrolls on its own and takes focus, so a keyboard can reach every row.
	const wrap = el('div', 'table-wrap', { tabindex: '0', 'aria-label': `${title}, as a table` });
	wrap.append(table);
	root.append(heading, description, chart, wrap);
	return root;
}

/** Horizontal bars of rates with their 95% intervals as whiskers; one or two bars per row. */
function rateBars(rows: { name: string; bars: { rate: Rate; className: string; legend: string }[] }[]): SVGSVGElement {
	const nameWidth = 220;
	const plotWidth = 420;
	const barHeight = 16;
	const rowHeight = Math.max(...rows.map(r => r.bars.length)) * (barHeight + 4) + 14;
	const height = rows.length * rowHeight + 30;
	const chart = svg('svg', { viewBox: `0 0 ${nameWidth + plotWidth + 80} ${height}`, class: 'chart' });
	const x = (v: number) => nameWidth + v * plotWidth;
	for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
		chart.append(svg('line', { x1: x(tick), x2: x(tick), y1: 0, y2: height - 20 }, 'grid'));
		chart.append(label(x(tick), height - 6, pct(tick), 'axis', 'middle'));
	}
	rows.forEach((row, i) => {
		const top = i * rowHeight + 6;
		const name = row.name.length > 32 ? `…${row.name.slice(-31)}` : row.name;
		chart.append(label(nameWidth - 8, top + barHeight - 3, name, 'name', 'end'));
		row.bars.forEach((bar, j) => {
			const y = top + j * (barHeight + 4);
			const r = bar.rate;
			if (r.n > 0)
				chart.append(
					svg('rect', { x: x(0), y, width: Math.max(1, r.rate * plotWidth), height: barHeight }, `bar ${bar.className}`),
				);
			const mid = y + barHeight / 2;
			chart.append(svg('line', { x1: x(r.ci95[0]), x2: x(r.ci95[1]), y1: mid, y2: mid }, 'whisker'));
			for (const end of r.ci95) chart.append(svg('line', { x1: x(end), x2: x(end), y1: mid - 5, y2: mid + 5 }, 'whisker'));
			chart.append(label(x(1) + 6, y + barHeight - 3, `${pct(r.rate)} of ${r.n}`, 'value'));
		});
	});
	return chart;
}

function rankBars(counts: readonly number[]): SVGSVGElement {
	const width = 640;
	const height = 180;
	const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart' });
	const most = Math.max(1, ...counts);
	const slot = Math.min(80, (width - 40) / Math.max(1, counts.length));
	counts.forEach((c, i) => {
		const h = (c / most) * (height - 50);
		const x = 30 + i * slot;
		chart.append(svg('rect', { x: x + 6, y: height - 25 - h, width: slot - 12, height: Math.max(h, 1) }, i === 0 ? 'bar top' : 'bar'));
		chart.append(label(x + slot / 2, height - 29 - h, String(c), 'value', 'middle'));
		chart.append(label(x + slot / 2, height - 8, `#${i + 1}`, 'axis', 'middle'));
	});
	return chart;
}

function trendLine(points: RankingReport['trend']['points']): SVGSVGElement {
	const width = 640;
	const height = 200;
	const left = 40;
	const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart' });
	const y = (v: number) => 10 + (1 - v) * (height - 40);
	const x = (i: number) => left + (points.length === 1 ? (width - left - 20) / 2 : (i * (width - left - 20)) / (points.length - 1));
	for (const tick of [0, 0.5, 1]) {
		chart.append(svg('line', { x1: left, x2: width - 10, y1: y(tick), y2: y(tick) }, 'grid'));
		chart.append(label(left - 6, y(tick) + 4, pct(tick), 'axis', 'end'));
	}
	if (points.length > 1) {
		// The 95% band: upper bounds left to right, lower bounds back.
		const band = [...points.map((p, i) => `${x(i)},${y(p.ci95[1])}`), ...points.map((p, i) => `${x(i)},${y(p.ci95[0])}`).reverse()];
		chart.append(svg('polygon', { points: band.join(' ') }, 'band'));
		chart.append(svg('polyline', { points: points.map((p, i) => `${x(i)},${y(p.rate)}`).join(' ') }, 'line'));
	}
	const every = Math.ceil(points.length / 8);
	points.forEach((p, i) => {
		chart.append(svg('circle', { cx: x(i), cy: y(p.rate), r: 4 }, 'point'));
		if (i % every === 0 || i === points.length - 1) chart.append(label(x(i), height - 8, p.period.slice(5), 'axis', 'middle'));
	});
	return chart;
}

function legend(items: { className: string; text: string }[]): HTMLElement {
	const root = el('p', 'legend');
	for (const item of items) {
		const swatch = el('span', `swatch ${item.className}`, { 'aria-hidden': 'true' });
		const text = el('span');
		text.textContent = item.text;
		root.append(swatch, text);
	}
	return root;
}

function render(report: RankingReport): void {
	const app = document.getElementById('app')!;
	const header = el('header');
	const h1 = el('h1');
	h1.textContent = 'How often the ranker agrees with you';
	const lead = el('p', 'summary');
	const actions = el('div', 'actions');
	actions.append(
		button('Export Preferences…', 'secondary', () => vscode.postMessage({ type: 'export' }), 'Write the picks as TRL preference pairs'),
		button(
			'Evaluate Reward Model…',
			'secondary',
			() => vscode.postMessage({ type: 'evaluate' }),
			'Score your picks with the configured reward model',
		),
		button('Recording Settings', 'link', () => vscode.postMessage({ type: 'openSettings' })),
	);
	header.append(h1, lead, actions);
	const main = el('main');
	if (report.judged === 0) {
		lead.textContent =
			report.picks === 0
				? 'No picks are recorded yet. Each candidate you accept in the picker is recorded here, on this machine only.'
				: `${report.picks} picks are recorded, but none had a ranking and more than one distinct candidate to choose from.`;
		app.replaceChildren(header);
		return;
	}
	lead.textContent =
		`${report.judged} of ${report.picks} recorded picks had a ranked choice. ` +
		`Scored pairs (your pick against each other candidate): the ranker scored your pick higher in ${pct(report.pairwise.rate)} of ${report.pairwise.n} (95% CI ${interval(report.pairwise)}, ties half).`;

	main.append(
		section(
			'Top-1 agreement per ranker',
			'How often the candidate the ranker put first was the one you accepted, with its 95% interval.',
			rateBars(report.rankers.map(r => ({ name: r.ranker, bars: [{ rate: r, className: r.kind, legend: r.kind }] }))),
			['Ranker', 'Agreed', 'Runs', 'Rate', '95% CI'],
			report.rankers.map(r => [r.ranker, count(r.k), String(r.n), pct(r.rate), interval(r)]),
		),
	);
	const total = report.rankDistribution.reduce((s, c) => s + c, 0);
	main.append(
		section(
			'Where your pick was ranked',
			'How many of your picks the ranker had put at #1, #2, and so on.',
			rankBars(report.rankDistribution),
			['Rank', 'Picks', 'Share'],
			report.rankDistribution.map((c, i) => [`#${i + 1}`, String(c), pct(c / total)]),
		),
	);
	main.append(
		section(
			`Agreement over time (per ${report.trend.bucket})`,
			`Top-1 agreement of all rankers per ${report.trend.bucket}, with the 95% band.`,
			trendLine(report.trend.points),
			[report.trend.bucket === 'day' ? 'Day' : 'Week of', 'Agreed', 'Runs', 'Rate', '95% CI'],
			report.trend.points.map(p => [p.period, count(p.k), String(p.n), pct(p.rate), interval(p)]),
		),
	);
	if (report.sideBySide.length) {
		const side = section(
			'Consensus beside the reward model',
			'On the runs a reward model ranked, how often its #1 was your pick, and how often consensus (recomputed from the same candidates) would have been right.',
			rateBars(
				report.sideBySide.map(s => ({
					name: s.rewardModel,
					bars: [
						{ rate: s.reward, className: 'reward', legend: 'reward model' },
						{ rate: s.consensus, className: 'consensus', legend: 'consensus' },
					],
				})),
			),
			['Reward model', 'Runs', 'Reward model', 'Consensus'],
			report.sideBySide.map(s => [
				s.rewardModel,
				String(s.reward.n),
				`${pct(s.reward.rate)} (${interval(s.reward)})`,
				`${pct(s.consensus.rate)} (${interval(s.consensus)})`,
			]),
		);
		side.insertBefore(
			legend([
				{ className: 'reward', text: 'reward model' },
				{ className: 'consensus', text: 'consensus' },
			]),
			side.querySelector('svg'),
		);
		main.append(side);
	}
	app.replaceChildren(header, main);
}

window.addEventListener('message', (event: MessageEvent<HostToReport>) => {
	const message = event.data;
	if (message?.type === 'report') render(message.report);
});
vscode.postMessage({ type: 'ready' });
