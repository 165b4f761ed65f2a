'use strict';

const { STORE_EVENTS, choices, unflatten, postEvent } = require('../common');

// Everything the catalogue allows: data as dotted fields (order.items.0.name = …).
module.exports = {
  key: 'send_store_event',
  noun: 'Event',
  display: {
    label: 'Send Store Event',
    description: 'Sends Tidings any catalogue event with its data as dotted fields.',
  },
  operation: {
    inputFields: [
      { key: 'store', label: 'Store', required: false,
        helpText: 'Store id in tidings.toml; empty = the only Zapier store.' },
      { key: 'type', label: 'Event', required: true, choices: choices(STORE_EVENTS) },
      { key: 'email', label: 'Recipient email', required: true },
      { key: 'name', label: 'Recipient name', required: false },
      { key: 'locale', label: 'Language', required: false },
      {
        key: 'data', label: 'Data', dict: true, required: false,
        helpText: 'One row per field; dots nest: `order.number`, `order.total`, ' +
          '`order.items.0.name`, `order.items.0.price`, `extra.anything`.',
      },
      { key: 'idempotency_key', label: 'Unique id', required: false,
        helpText: 'The same id twice sends once.' },
    ],
    perform: async (z, bundle) => {
      const d = bundle.inputData;
      const recipient = { email: d.email };
      if (d.name) recipient.name = d.name;
      if (d.locale) recipient.locale = d.locale;
      return postEvent(z, bundle, d.type, recipient, unflatten(d.data), d.idempotency_key);
    },
    sample: { event_id: 1, message_ids: [1], duplicate: false },
  },
};
