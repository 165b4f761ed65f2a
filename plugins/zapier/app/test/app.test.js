'use strict';

// The app against a live Tidings hub. The pytest test tests/plugins/zapier/test_app.py
// starts one on loopback and runs `node --test test/` with TIDINGS_URL, TIDINGS_API_KEY
// and TIDINGS_STORE set; without TIDINGS_URL these tests are skipped.

const assert = require('node:assert/strict');
const http = require('node:http');
const { describe, it, before, after } = require('node:test');
const zapier = require('zapier-platform-core');
const { validateApp } = require('zapier-platform-core/src/tools/schema');

const App = require('../index');
const { unflatten } = require('../common');

const appTester = zapier.createAppTester(App);
const URL_ = process.env.TIDINGS_URL;
const authData = { url: URL_, api_key: process.env.TIDINGS_API_KEY };
const live = { skip: URL_ ? false : 'TIDINGS_URL is not set (run through pytest)' };

// A stand-in for Zapier's hook URLs: resolves a waiter per received POST.
const receiver = () => {
  const received = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      received.push({ path: req.url, body: JSON.parse(body) });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"success"}');
      waiters.splice(0).forEach((w) => w());
    });
  });
  const waitFor = (path, count, ms = 10000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${count} POSTs to ${path}`)), ms);
    const check = () => {
      const hits = received.filter((r) => r.path === path);
      if (hits.length >= count) {
        clearTimeout(timer);
        resolve(hits);
      } else {
        waiters.push(check);
      }
    };
    check();
  });
  // Resolves with the first POST to `path` that `match` accepts.
  const waitMatch = async (path, match) => {
    for (let count = 1; ; count += 1) {
      const hits = await waitFor(path, count);
      const found = hits.find(match);
      if (found) return found;
    }
  };
  return { server, received, waitFor, waitMatch };
};

const order = (number) => ({
  'order.number': number, 'order.currency': 'EUR', 'order.total': '59.90',
  'order.items.0.name': 'Linen shirt', 'order.items.0.price': '59.90',
});

describe('offline', () => {
  it('is a valid Zapier app definition', () => {
    assert.deepEqual(validateApp(App), []);
  });

  it('nests dotted fields and makes lists of numbered ones', () => {
    assert.deepEqual(unflatten({ 'order.items.1.name': 'b', 'order.items.0.name': 'a',
      'order.number': '7', note: '' }),
    { order: { items: [{ name: 'a' }, { name: 'b' }], number: '7' } });
  });
});

describe('against a live hub', live, () => {
  const hooks = receiver();
  let target;

  before(async () => {
    await new Promise((resolve) => hooks.server.listen(0, '127.0.0.1', resolve));
    target = `http://127.0.0.1:${hooks.server.address().port}`;
  });
  after(() => new Promise((resolve) => hooks.server.close(resolve)));

  it('tests the connection with the API key', async () => {
    const me = await appTester(App.authentication.test, { authData });
    assert.equal(me.ok, true);
    assert.equal(me.default_store, process.env.TIDINGS_STORE);
    await assert.rejects(
      appTester(App.authentication.test, { authData: { ...authData, api_key: 'wrong' } }),
      /API key is not valid/);
  });

  it('sends an email, once per unique id', async () => {
    const inputData = {
      type: 'order.placed', email: 'ana@example.com', name: 'Ana', order_number: '2001',
      currency: 'EUR', total: '12.50', idempotency_key: 'zap-app-2001',
      items: [{ item_name: 'Socks', item_quantity: 2, item_price: '6.25' }],
    };
    const first = await appTester(App.creates.send_email.operation.perform,
      { authData, inputData });
    assert.equal(first.duplicate, false);
    assert.equal(first.message_ids.length, 1);
    const again = await appTester(App.creates.send_email.operation.perform,
      { authData, inputData });
    assert.equal(again.duplicate, true);
    assert.equal(again.event_id, first.event_id);
  });

  it('sends a store event from dotted data and explains a bad one', async () => {
    const inputData = { type: 'order.shipped', email: 'ben@example.com', data: {
      ...order('2002'), 'order.tracking.carrier': 'UPS', 'order.tracking.number': '1Z' } };
    const done = await appTester(App.creates.send_store_event.operation.perform,
      { authData, inputData });
    assert.equal(done.duplicate, false);
    await assert.rejects(
      appTester(App.creates.send_store_event.operation.perform, { authData, inputData: {
        ...inputData, store: process.env.TIDINGS_STORE, data: { 'order.number': '1' } } }),
      /order\.currency/);
  });

  it('subscribes a REST hook, receives items, lists samples, unsubscribes', async () => {
    const operation = App.triggers.store_event.operation;
    const inputData = { event: 'order.placed' };
    const subscribeData = await appTester(operation.performSubscribe,
      { authData, inputData, targetUrl: `${target}/placed` });
    assert.match(subscribeData.id, /^sub_/);
    const sent = await appTester(App.creates.send_store_event.operation.perform, { authData,
      inputData: { type: 'order.placed', email: 'cy@example.com', data: order('2003') } });
    const [hit] = await hooks.waitFor('/placed', 1);
    assert.equal(hit.body.id, `${process.env.TIDINGS_STORE}:event:${sent.event_id}`);
    const items = await appTester(operation.perform,
      { authData, inputData, cleanedRequest: hit.body });
    assert.equal(items[0].data.order.number, '2003');
    const samples = await appTester(operation.performList,
      { authData, inputData, meta: { isLoadingSample: true } });
    assert.equal(samples[0].id, hit.body.id); // newest first
    await appTester(operation.performUnsubscribe, { authData, inputData, subscribeData });
    await appTester(operation.performUnsubscribe, { authData, inputData, subscribeData });
  });

  it('fires message.sent when the mail went out', async () => {
    const operation = App.triggers.message_event.operation;
    const inputData = { event: 'message.sent' };
    const subscribeData = await appTester(operation.performSubscribe,
      { authData, inputData, targetUrl: `${target}/sent` });
    const sent = await appTester(App.creates.send_email.operation.perform, { authData,
      inputData: { type: 'account.created', email: 'dee@example.com' } });
    const hit = await hooks.waitMatch('/sent', (h) => h.body.message_id === sent.message_ids[0]);
    assert.equal(hit.body.kind, 'message.sent');
    assert.equal(hit.body.state, 'sent');
    await appTester(operation.performUnsubscribe, { authData, inputData, subscribeData });
  });
});
