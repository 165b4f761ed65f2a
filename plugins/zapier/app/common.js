'use strict';

// Shared helpers: the hub's address, its trigger catalogue, dotted fields → nested data.

const hubUrl = (bundle, path) => `${String(bundle.authData.url || '').replace(/\/+$/, '')}${path}`;

const STORE_EVENTS = [
  'account.created', 'account.password_reset', 'order.placed', 'order.paid', 'order.on_hold',
  'order.shipped', 'order.completed', 'order.cancelled', 'order.failed', 'order.refunded',
  'order.invoice', 'order.note', 'admin.order.new', 'admin.order.cancelled',
  'admin.order.failed',
];
const MESSAGE_EVENTS = ['message.sent', 'message.delivered', 'message.bounced', 'message.failed'];

const choices = (keys) => Object.fromEntries(keys.map((k) => [k, k]));

// {"order.number": "1", "order.items.0.name": "x"} → {order: {number: "1", items: [{name: "x"}]}}
// Blank values are left out, as the hub's catch endpoint does.
const unflatten = (fields) => {
  const root = {};
  for (const [key, value] of Object.entries(fields || {})) {
    if (value === undefined || value === null || String(value).trim() === '') continue;
    const parts = key.split('.').map((p) => p.trim());
    let node = root;
    parts.slice(0, -1).forEach((part) => {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part];
    });
    node[parts[parts.length - 1]] = value;
  }
  const listify = (node) => {
    if (typeof node !== 'object' || node === null) return node;
    const keys = Object.keys(node);
    if (keys.length && keys.every((k) => /^\d+$/.test(k))) {
      return keys.sort((a, b) => Number(a) - Number(b)).map((k) => listify(node[k]));
    }
    return Object.fromEntries(keys.map((k) => [k, listify(node[k])]));
  };
  return listify(root);
};

// The store to act on: as entered, else the hub's only Zapier store.
const resolveStore = async (z, bundle) => {
  if (bundle.inputData.store) return bundle.inputData.store;
  const response = await z.request({ url: hubUrl(bundle, '/zapier/me') });
  const store = response.data.default_store;
  if (!store) {
    throw new z.errors.Error(
      'This hub has several stores (or none with platform "zapier"): fill in "Store".',
      'store_required', 400);
  }
  return store;
};

// POST one catalogue event to /api/v1/events.
const postEvent = async (z, bundle, type, recipient, data, idempotencyKey) => {
  const body = { store: await resolveStore(z, bundle), type, recipient, data };
  if (idempotencyKey) body.idempotency_key = idempotencyKey;
  const response = await z.request({ url: hubUrl(bundle, '/api/v1/events'), method: 'POST', body });
  return response.data;
};

module.exports = {
  hubUrl, STORE_EVENTS, MESSAGE_EVENTS, choices, unflatten, resolveStore, postEvent,
};
