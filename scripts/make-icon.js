#!/usr/bin/env node
// Renders media/icon.svg (the source, committed) to media/icon.png, the 128×128 marketplace icon,
// with the Chromium the tests already use. Run it after editing the SVG: node scripts/make-icon.js
'use strict';
const fs = require('fs');
const path = require('path');
const host = require('./vscode-host');

async function main() {
	const media = path.resolve(__dirname, '..', 'media');
	const svg = fs.readFileSync(path.join(media, 'icon.svg'), 'utf8');
	const scratch = fs.mkdtempSync(path.join(require('os').tmpdir(), 'bestofn-icon-'));
	const context = await host.launchBrowser(scratch, { viewport: { width: 128, height: 128 } });
	try {
		const page = context.pages()[0] || (await context.newPage());
		await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
		await page.locator('svg').screenshot({ path: path.join(media, 'icon.png'), omitBackground: true });
	} finally {
		await context.close();
		fs.rmSync(scratch, { recursive: true, force: true });
	}
}

main().catch(e => {
	console.error(e);
	process.exit(1);
});
