'use strict';

const { makeTrigger } = require('./hook');
const { STORE_EVENTS } = require('../common');

module.exports = makeTrigger({
  key: 'store_event',
  noun: 'Event',
  label: 'New Store Event',
  description: 'Triggers when your shop sends Tidings an event, e.g. an order was placed.',
  events: STORE_EVENTS,
  sample: {
    id: 'shop:event:1',
    kind: 'order.placed',
    store: 'shop',
    event_id: 1,
    message_ids: [1],
    recipient: { email: 'ana@example.com', name: 'Ana García', locale: 'en' },
    data: { order: { number: '1001', currency: 'EUR', total: '59.90' } },
    occurred_at: '2025-01-01T12:00:00+00:00',
  },
});
