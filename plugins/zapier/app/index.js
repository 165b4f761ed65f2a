'use strict';

const authentication = require('./authentication');
const storeEvent = require('./triggers/store_event');
const messageEvent = require('./triggers/message_event');
const sendEmail = require('./creates/send_email');
const sendStoreEvent = require('./creates/send_store_event');

// Every request carries the API key as a Bearer token.
const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${bundle.authData.api_key}`;
  }
  return request;
};

// The hub answers errors as {"error": key, "detail": sentence}: show the sentence.
const explainErrors = (response, z) => {
  if (response.status >= 400 && !response.skipThrowForStatus) {
    let body = {};
    try {
      body = JSON.parse(response.content);
    } catch (_) {
      body = {};
    }
    const detail = body.detail || response.content || `HTTP ${response.status}`;
    throw new z.errors.Error(String(detail), String(body.error || 'http_error'), response.status);
  }
  return response;
};

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [explainErrors],
  triggers: { [storeEvent.key]: storeEvent, [messageEvent.key]: messageEvent },
  creates: { [sendEmail.key]: sendEmail, [sendStoreEvent.key]: sendStoreEvent },
};
