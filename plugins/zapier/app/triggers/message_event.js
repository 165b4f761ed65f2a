'use strict';

const { makeTrigger } = require('./hook');
const { MESSAGE_EVENTS } = require('../common');

module.exports = makeTrigger({
  key: 'message_event',
  noun: 'Message',
  label: 'Email Sent or Failed',
  description: 'Triggers when Tidings sent an email or gave up on one. Delivered and ' +
    'bounced fire once provider event webhooks are supported.',
  events: MESSAGE_EVENTS,
  sample: {
    id: 'shop:message:1:sent',
    kind: 'message.sent',
    store: 'shop',
    message_id: 1,
    event_id: 1,
    event_type: 'order.placed',
    template: 'order.placed',
    recipient: 'ana@example.com',
    state: 'sent',
    transport: 'main',
    subject: 'Thank you for your order 1001',
    detail: '250 2.0.0 Ok',
    occurred_at: '2025-01-01T12:00:05+00:00',
  },
});
