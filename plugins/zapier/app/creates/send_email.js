'use strict';

const { STORE_EVENTS, choices, unflatten, postEvent } = require('../common');

// The common case with plain fields: one order mail (or account mail) to one customer.
module.exports = {
  key: 'send_email',
  noun: 'Email',
  display: {
    label: 'Send Email',
    description: 'Sends one of the shop\'s emails (order confirmation, shipping notice, …).',
  },
  operation: {
    inputFields: [
      { key: 'store', label: 'Store', required: false,
        helpText: 'Store id in tidings.toml; empty = the only Zapier store.' },
      { key: 'type', label: 'Email', required: true, choices: choices(STORE_EVENTS),
        default: 'order.placed' },
      { key: 'email', label: 'To (email)', required: true },
      { key: 'name', label: 'To (name)', required: false },
      { key: 'locale', label: 'Language', required: false, helpText: 'e.g. en, de, es' },
      { key: 'order_number', label: 'Order number', required: false },
      { key: 'currency', label: 'Currency', required: false, helpText: 'e.g. EUR' },
      { key: 'total', label: 'Order total', required: false, helpText: 'e.g. 59.90' },
      {
        key: 'items', label: 'Items', required: false,
        children: [
          { key: 'item_name', label: 'Item name' },
          { key: 'item_quantity', label: 'Quantity', type: 'integer' },
          { key: 'item_price', label: 'Unit price' },
        ],
      },
      { key: 'tracking_carrier', label: 'Carrier', required: false },
      { key: 'tracking_number', label: 'Tracking number', required: false },
      { key: 'tracking_url', label: 'Tracking URL', required: false },
      { key: 'note', label: 'Note to customer', required: false },
      { key: 'reset_url', label: 'Password-reset link', required: false },
      { key: 'idempotency_key', label: 'Unique id', required: false,
        helpText: 'The same id twice sends once (e.g. map the order id and status).' },
    ],
    perform: async (z, bundle) => {
      const d = bundle.inputData;
      const fields = {
        'order.number': d.order_number, 'order.currency': d.currency, 'order.total': d.total,
        'order.tracking.carrier': d.tracking_carrier, 'order.tracking.number': d.tracking_number,
        'order.tracking.url': d.tracking_url, note: d.note, reset_url: d.reset_url,
      };
      (d.items || []).forEach((item, i) => {
        for (const [k, v] of Object.entries(item)) {
          fields[`order.items.${i}.${k.replace(/^item_/, '')}`] = v;
        }
      });
      const recipient = { email: d.email };
      if (d.name) recipient.name = d.name;
      if (d.locale) recipient.locale = d.locale;
      return postEvent(z, bundle, d.type, recipient, unflatten(fields), d.idempotency_key);
    },
    sample: { event_id: 1, message_ids: [1], duplicate: false },
  },
};
