/*
 * Progressive enhancement only: every page works without this file. It
 *  - moves focus to a form's error summary, so screen readers announce it;
 *  - checks a Unified Social Credit Code as it is typed (the same GB 32100-2015 rule as the
 *    server, which checks again) and shows the province it was registered in.
 * Messages come from data attributes rendered from the message catalogs.
 */
/* global document */
(function () {
  'use strict';

  var summary = document.querySelector('[data-autofocus]');
  if (summary) summary.focus();

  var ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  var LENGTH = 18;

  function weight(i) {
    var w = 1;
    for (var k = 0; k < i; k++) w = (w * 3) % 31;
    return w;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : m;
    });
  }

  /** { ok: true, province } or { ok: false, reason, ... } — the same order of checks as the server. */
  function checkUscc(value, provinces) {
    var v = value.trim().toUpperCase();
    for (var i = 0; i < v.length; i++) {
      if (ALPHABET.indexOf(v.charAt(i)) < 0)
        return { ok: false, reason: 'charset', pos: i + 1, ch: v.charAt(i), complete: true };
    }
    if (v.length !== LENGTH)
      return { ok: false, reason: 'length', n: v.length, complete: v.length > LENGTH };
    var sum = 0;
    for (var j = 0; j < LENGTH - 1; j++) sum += ALPHABET.indexOf(v.charAt(j)) * weight(j);
    if (ALPHABET.charAt((31 - (sum % 31)) % 31) !== v.charAt(LENGTH - 1))
      return { ok: false, reason: 'checksum', complete: true };
    var code = v.slice(2, 4);
    if (!Object.prototype.hasOwnProperty.call(provinces, code))
      return { ok: false, reason: 'province', code: code, complete: true };
    return { ok: true, province: provinces[code] };
  }

  var input = document.querySelector('input[data-uscc]');
  if (!input) return;
  var field = input.closest('.field');
  var error = document.getElementById(input.id + '-error');
  var note = document.getElementById(input.id + '-province');
  var provinces = {};
  try {
    provinces = JSON.parse(input.getAttribute('data-provinces') || '{}');
  } catch (e) {
    provinces = {};
  }
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
    var r = checkUscc(value, provinces);
    if (r.ok) {
      show(fill(input.getAttribute('data-msg-ok'), { province: r.province }), false);
    } else if (final || touched || r.complete) {
      // While the first code is being typed, a short code is not yet an error.
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
