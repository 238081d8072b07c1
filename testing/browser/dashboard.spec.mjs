// Drives the dashboard page in Debian's chromium through playwright-core.
// One phase per run (the C++ test kills processes between phases):
//   up     – every application's instance is UP; dev-broker faults from the page
//   order  – an order placed through the gateway shows up with its whole saga
//   dlt    – a poison record shows up as a dead letter; Replay sends it again
//   down   – after INVENTORY-SERVICE was killed: its instance is DOWN and the
//            breakers of its callers (gateway, order-service) are OPEN
// Exits non-zero with a message on the first failed expectation; saves
// screenshots to $SHOTS.
// PLAYWRIGHT: path of playwright-core's index.mjs (the test's runfiles).
const { chromium } = await import(process.env.PLAYWRIGHT || 'playwright-core');

const { DASHBOARD_URL, GATEWAY_URL, ORDER_URL, PHASE, SHOTS } = process.env;
const TIMEOUT = 45000;

function fail(msg) {
  throw new Error(`[${PHASE}] ${msg}`);
}

async function waitFor(what, fn, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();  // true when met; anything else describes what was seen
      if (last === true) return;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// As the demo admin (the test signs in for it): writes the catalog and
// balances, and places orders for the demo customers.
async function gateway(method, path, body, base = GATEWAY_URL) {
  const headers = { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` };
  if (body) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(DASHBOARD_URL + '/');
  const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const count = (sel) => page.locator(sel).count();
  // The page asks who you are first; a demo identity's password is <name>-secret.
  const signIn = async (user, password = `${user}-secret`) => {
    await page.waitForSelector('#sign-in:not([hidden])');
    await page.fill('#sign-in-user', user);
    await page.fill('#sign-in-password', password);
    await page.click('#sign-in button[type="submit"]');
  };
  const fromPage = (method, path, body) => page.evaluate(async ([m, p, b]) =>
    (await fetch(p, { method: m, headers: { 'Content-Type': 'application/json' }, body: b })).status, [method, path, body]);

  if (PHASE === 'viewer') {
    if ((await fromPage('GET', '/api/snapshot')) !== 401) fail('the snapshot without a session');
    await signIn('viewer', 'not-the-password');
    await waitFor('a refused sign-in', async () => (await page.textContent('#sign-in-error')) !== '' || 'no error shown');
    await signIn('alice');
    await waitFor('a customer refused', async () => /viewer and admin/.test(await page.textContent('#sign-in-error')) || await page.textContent('#sign-in-error'));
    await signIn('viewer');
    await page.waitForSelector('#main:not([hidden])');
    await waitFor('3 brokers', async () => (await count('.broker[data-state="UP"]')) === 3);
    if (!/viewer/.test(await page.textContent('#who'))) fail('the page does not say who is signed in');
    if ((await count('button[data-fault], button[data-leader-topic], button[data-replay-topic]')) !== 0) fail('a viewer sees action buttons');
    const status = await fromPage('POST', '/api/kafka/brokers/3/down', '{}');
    if (status !== 403) fail(`a viewer's broker fault answered ${status}, not 403`);
    if ((await count('.broker[data-state="UP"]')) !== 3) fail('a viewer took a broker down');
    await shot('0-viewer');
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in:not([hidden])');
    if ((await fromPage('GET', '/api/snapshot')) !== 401) fail('the session outlived its sign-out');
  } else {
    await signIn('admin');
    await page.waitForSelector('#main:not([hidden])');
  }

  if (PHASE === 'up') {
    const apps = ['ORDER-SERVICE', 'PAYMENT-SERVICE', 'INVENTORY-SERVICE', 'NOTIFICATION-SERVICE', 'API-GATEWAY', 'DASHBOARD'];
    for (const app of apps)
      await waitFor(`${app} UP on the page`, async () => (await count(`tr.instance[data-app="${app}"][data-status="UP"]`)) === 1);
    if ((await count('tr.instance.dead')) !== 0) fail('an instance is marked dead');
    await waitFor('breaker tiles', async () => (await count('.breaker')) > 0);
    if ((await count('.breaker[data-state="OPEN"]')) !== 0) fail('a breaker is OPEN with every service UP');
    await waitFor('3 brokers', async () => (await count('.broker[data-state="UP"]')) === 3);
    await waitFor('consumer groups', async () => (await count('tr.group[data-group="payment-service"]')) === 1);
    await waitFor('topics', async () => (await count('tr.topic[data-topic="order.events"]')) === 1);
    await shot('1-all-up');
    // A dev-broker fault from the page, and back.
    await page.click('.broker[data-broker="3"] button[data-fault="down"]');
    await waitFor('broker 3 DOWN', async () => (await count('.broker[data-broker="3"][data-state="DOWN"]')) === 1);
    await shot('2-broker-down');
    await page.click('.broker[data-broker="3"] button[data-fault="up"]');
    await waitFor('broker 3 UP again', async () => (await count('.broker[data-broker="3"][data-state="UP"]')) === 1);
  } else if (PHASE === 'order') {
    for (const [path, body] of [['/api/products/SKU-BOOK', { name: 'A book', priceCents: 3999, available: 100 }],
      ['/api/accounts/alice', { balanceCents: 100000 }], ['/api/accounts/dave', { balanceCents: 0 }]]) {
      const s = await gateway('PUT', path, body);
      if (s.status !== 200 && s.status !== 201) fail(`PUT ${path}: ${s.status} ${JSON.stringify(s.body)}`);
    }
    const r = await gateway('POST', '/api/orders', { customerId: 'alice', items: [{ sku: 'SKU-BOOK', quantity: 1 }] });
    if (r.status !== 202) fail(`order not accepted: ${r.status} ${JSON.stringify(r.body)}`);
    const id = r.body.orderId;
    console.log(`order ${id}`);
    await waitFor('the order in the recent list', async () => (await count(`tr.order[data-order-id="${id}"]`)) === 1);
    await page.fill('#order-search', id);
    await page.click('#order-search-form button[type="submit"]');
    await waitFor('CONFIRMED in the detail', async () => (await count('#order-detail-status[data-status="CONFIRMED"]')) === 1);
    const want = [['OrderCreated', 'order-service'], ['PaymentCompleted', 'payment-service'],
      ['InventoryReserved', 'inventory-service'], ['OrderConfirmed', 'order-service']];
    for (const [event, source] of want)
      await waitFor(`${event} by ${source} on the timeline`,
        async () => (await count(`li.step[data-event="${event}"][data-source="${source}"]`)) === 1);
    await waitFor('a notification on the timeline', async () => (await count('li.step[data-source="notification-service"]')) > 0);
    const text = await page.locator('#order-detail').innerText();
    if (!/\+\d+ ms \(step \d+ ms\)/.test(text)) fail(`no step durations in the timeline: ${text}`);
    await waitFor('CONFIRMED in the list', async () => (await count(`tr.order[data-order-id="${id}"][data-status="CONFIRMED"]`)) === 1);
    await shot('3-order-timeline');
    // A failed saga: the reason and the compensation are on the page.
    const d = await gateway('POST', '/api/orders', { customerId: 'dave', items: [{ sku: 'SKU-BOOK', quantity: 1 }] });
    if (d.status !== 202) fail(`dave's order not accepted: ${d.status}`);
    await page.fill('#order-search', d.body.orderId);
    await page.click('#order-search-form button[type="submit"]');
    await waitFor('CANCELLED in the detail', async () => (await count('#order-detail-status[data-status="CANCELLED"]')) === 1);
    await waitFor('the reason', async () => (await page.locator('#order-detail-reason').innerText()) === 'INSUFFICIENT_FUNDS');
    await waitFor('PaymentFailed marked as a failure', async () => (await count('li.step.failure[data-event="PaymentFailed"]')) === 1);
    await waitFor('OrderCancelled', async () => (await count('li.step[data-event="OrderCancelled"][data-source="order-service"]')) === 1);
    await waitFor('the compensation InventoryReleased', async () =>
      (await count('li.step.compensation[data-event="InventoryReleased"][data-source="inventory-service"]')) === 1);
    await shot('3b-cancelled-with-compensation');
    // Search by customer lists it too.
    await page.fill('#order-search', 'alice');
    await page.click('#order-search-form button[type="submit"]');
    await waitFor('the order in the customer search', async () => (await count(`tr.order[data-order-id="${id}"]`)) === 1);
  } else if (PHASE === 'dlt') {
    await waitFor('a dead letter from order.events', async () => (await count('tr.dead-letter[data-topic="order.events.DLT"]')) > 0);
    const before = await count('tr.dead-letter');
    const text = await page.locator('tr.dead-letter').first().innerText();
    // origin partition and offset decoded from Spring Kafka's binary headers
    if (!/order\.events\/\d+@\d+/.test(text)) fail(`dead letter row lacks its origin: ${text}`);
    const payload = await page.locator('tr.dead-letter details.payload pre').first().textContent();
    if (!/protobuf|Envelope|parse/i.test(payload || '')) fail(`the poison payload's decode error is not shown: ${payload}`);
    await shot('4-dead-letter');
    await page.locator('tr.dead-letter button[data-replay-topic]').first().click();
    // replayed, it is still poison: the consumer dead-letters it again
    await waitFor('the replayed record back as a new dead letter', async () => (await count('tr.dead-letter')) > before);
  } else if (PHASE === 'down') {
    let n = 0;
    await waitFor('INVENTORY-SERVICE DOWN and its callers\' breakers OPEN', async () => {
      // callers keep calling: the gateway's route, and order-service's pricing
      // (directly: the gateway soon stops passing order-service's 503s on)
      await gateway('GET', '/api/products');
      await gateway('POST', '/api/orders', { customerId: 'alice', items: [{ sku: `SKU-UNCACHED-${n++}`, quantity: 1 }] }, ORDER_URL);
      const down = await count('tr.instance[data-app="INVENTORY-SERVICE"][data-status="DOWN"]');
      const gw = await count('.breaker[data-app="API-GATEWAY"][data-name="products"][data-state="OPEN"]');
      const order = await count('.breaker[data-app="ORDER-SERVICE"][data-name="inventory-service"][data-state="OPEN"]');
      return down >= 1 && gw === 1 && order === 1 ? true : { down, gw, order };
    });
    if ((await count('tr.instance.dead[data-app="INVENTORY-SERVICE"]')) < 1) fail('the dead instance is not marked');
    for (const app of ['ORDER-SERVICE', 'PAYMENT-SERVICE', 'API-GATEWAY'])
      if ((await count(`tr.instance[data-app="${app}"][data-status="UP"]`)) !== 1) fail(`${app} is not UP`);
    await shot('5-inventory-down');
  } else if (PHASE !== 'viewer') {
    fail(`unknown phase ${PHASE}`);
  }
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
  console.log(`phase ${PHASE}: ok`);
} finally {
  await browser.close();
}
