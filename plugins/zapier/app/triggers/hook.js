'use strict';

const { hubUrl, choices } = require('../common');

// One REST-hook trigger: subscribe/unsubscribe at /zapier/hooks, samples from
// /zapier/samples/<event> (also the polling fallback Zapier calls performList).
const makeTrigger = ({ key, noun, label, description, events, sample }) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    type: 'hook',
    inputFields: [
      { key: 'event', label: 'Event', required: true, choices: choices(events) },
      {
        key: 'store', label: 'Store', required: false,
        helpText: 'The store id in tidings.toml; leave empty when the hub has one Zapier store.',
      },
    ],
    performSubscribe: async (z, bundle) => {
      const body = { url: bundle.targetUrl, event: bundle.inputData.event };
      if (bundle.inputData.store) body.store = bundle.inputData.store;
      const response = await z.request({
        url: hubUrl(bundle, '/zapier/hooks'), method: 'POST', body,
      });
      return response.data; // {id, store, event, url, created_at}: becomes bundle.subscribeData
    },
    performUnsubscribe: async (z, bundle) => {
      const response = await z.request({
        url: hubUrl(bundle, `/zapier/hooks/${encodeURIComponent(bundle.subscribeData.id)}`),
        method: 'DELETE',
        skipThrowForStatus: true,
      });
      if (response.status === 404) return { ok: true, id: bundle.subscribeData.id }; // gone already
      response.throwForStatus();
      return response.data;
    },
    perform: (z, bundle) => [bundle.cleanedRequest],
    performList: async (z, bundle) => {
      const params = bundle.inputData.store ? { store: bundle.inputData.store } : {};
      const response = await z.request({
        url: hubUrl(bundle, `/zapier/samples/${encodeURIComponent(bundle.inputData.event)}`),
        params,
      });
      return response.data; // newest first, each with a stable id
    },
    sample,
  },
});

module.exports = { makeTrigger };
