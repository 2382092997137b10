/*
 * Progressive enhancement only: every page works without this file. It
 *  - moves focus to a form's error summary, so screen readers announce it;
 *  - checks a Unified Social Credit Code as it is typed (the server's whole rule: authority,
 *    type, region, GB 11714 and GB 32100 check characters; the server checks again) and shows
 *    the province it was registered in.
 * Messages come from data attributes rendered from the message catalogs.
 */
/* global document */
(function () {
  'use strict';

  var summary = document.querySelector('[data-autofocus]');
  if (summary) summary.focus();

  // The rule of src/domain/uscc.ts (validateUscc), step for step; its tables (authorities and
  // their organisation types, provinces) come from the server in data attributes.
  // test/identity/uscc-client-parity.test.ts runs this function against the server's.
  var ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  var LENGTH = 18;
  var ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

  function weight(i) {
    var w = 1;
    for (var k = 0; k < i; k++) w = (w * 3) % 31;
    return w;
  }

  function has(obj, key) {
    return Object.prototype.hasOwnProperty.call(obj, key);
  }

  function orgCheckChar(first8) {
    var sum = 0;
    for (var i = 0; i < 8; i++) {
      var ch = first8.charAt(i);
      sum += (/[0-9]/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55) * ORG_WEIGHTS[i];
    }
    var c = 11 - (sum % 11);
    return c === 10 ? 'X' : c === 11 ? '0' : String(c);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, name) {
      return has(values, name) ? String(values[name]) : m;
    });
  }

  /**
   * { ok: true, province } or { ok: false, reason, ...message values }: the server's verdict
   * (reasons length, charset, authority, type, region, org-check, checksum, in its order).
   */
  function checkUscc(value, provinces, authorities) {
    var v = value.trim().toUpperCase();
    if (v.length !== LENGTH) return { ok: false, reason: 'length', n: v.length };
    for (var i = 0; i < v.length; i++) {
      if (ALPHABET.indexOf(v.charAt(i)) < 0)
        return { ok: false, reason: 'charset', pos: i + 1, ch: v.charAt(i) };
    }
    var types = has(authorities, v.charAt(0)) ? authorities[v.charAt(0)] : undefined;
    if (types === undefined) return { ok: false, reason: 'authority', ch: v.charAt(0) };
    if (types.indexOf(v.charAt(1)) < 0)
      return { ok: false, reason: 'type', ch: v.charAt(1), authority: v.charAt(0) };
    var division = v.slice(2, 8);
    if (!/^\d{6}$/.test(division) || !has(provinces, division.slice(0, 2)))
      return { ok: false, reason: 'region', code: division };
    if (!/^[0-9X]$/.test(v.charAt(16)) || orgCheckChar(v.slice(8, 16)) !== v.charAt(16))
      return { ok: false, reason: 'org-check' };
    var sum = 0;
    for (var j = 0; j < LENGTH - 1; j++) sum += ALPHABET.indexOf(v.charAt(j)) * weight(j);
    if (ALPHABET.charAt((31 - (sum % 31)) % 31) !== v.charAt(LENGTH - 1))
      return { ok: false, reason: 'checksum' };
    return { ok: true, province: provinces[division.slice(0, 2)] };
  }

  /** While a code is still being typed: a character no code may hold, if there is one. */
  function earlyCharset(value) {
    var v = value.trim().toUpperCase();
    for (var i = 0; i < v.length; i++) {
      if (ALPHABET.indexOf(v.charAt(i)) < 0)
        return { ok: false, reason: 'charset', pos: i + 1, ch: v.charAt(i) };
    }
    return undefined;
  }

  // For the parity test (and the curious): the same function the form uses.
  if (typeof globalThis !== 'undefined') globalThis.eqiCheckUscc = checkUscc;

  var input = document.querySelector('input[data-uscc]');
  if (!input) return;
  var field = input.closest('.field');
  var error = document.getElementById(input.id + '-error');
  var note = document.getElementById(input.id + '-province');
  function json(name) {
    try {
      return JSON.parse(input.getAttribute(name) || '{}');
    } catch (e) {
      return {};
    }
  }
  var provinces = json('data-provinces');
  var authorities = json('data-authorities');
  var touched = input.value.trim() !== '';

  function show(message, isError) {
    if (error.textContent !== (isError ? message : '')) error.textContent = isError ? message : '';
    if (note.textContent !== (isError ? '' : message)) note.textContent = isError ? '' : message;
    if (isError) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    if (field) field.classList.toggle('has-error', isError);
  }

  function update(final) {
    var value = input.value;
    if (value.trim() === '') {
      show('', false);
      return;
    }
    var r = checkUscc(value, provinces, authorities);
    // While the first code is being typed, a short code is not yet an error (a wrong character is).
    if (!r.ok && r.reason === 'length' && r.n < LENGTH && !final && !touched)
      r = earlyCharset(value) || { ok: false, reason: 'typing' };
    if (r.ok) {
      show(fill(input.getAttribute('data-msg-ok'), { province: r.province }), false);
    } else if (r.reason !== 'typing') {
      show(fill(input.getAttribute('data-msg-' + r.reason), r), true);
    } else {
      show('', false);
    }
  }

  input.addEventListener('input', function () {
    update(false);
  });
  input.addEventListener('blur', function () {
    if (input.value.trim() !== '') touched = true;
    update(true);
  });
})();
