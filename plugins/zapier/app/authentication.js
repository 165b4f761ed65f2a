'use strict';

// API-key auth: the hub's address and a key from its [api] keys.
module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'url', label: 'Tidings URL', required: true, type: 'string',
      helpText: 'Where Zapier reaches your hub, e.g. `https://mail.example.com` ' +
        '(the same as server.public_url).',
    },
    {
      key: 'api_key', label: 'API key', required: true, type: 'password',
      helpText: 'One of the keys under `[api] keys` in tidings.toml.',
    },
  ],
  test: { url: '{{bundle.authData.url}}/zapier/me' },
  connectionLabel: (z, bundle) => {
    const store = bundle.inputData.default_store;
    return store ? `${bundle.authData.url} (${store})` : String(bundle.authData.url);
  },
};
