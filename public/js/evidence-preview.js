/*
 * Console review page: renders the first page of each evidence PDF into a canvas above its
 * link, with pdf.js served by the app itself (/vendor/, src/site/vendor.ts). The PDF is fetched
 * with the admin's own session, exactly as the link would open it; nothing is sent elsewhere.
 * Without this script (or when a file will not render) the link to the PDF is still there.
 */
/* global document, fetch, window */
(function () {
  'use strict';

  var section = document.querySelector('[data-pdfjs]');
  if (!section) return;
  var links = section.querySelectorAll('a[data-evidence-pdf]');
  if (!links.length) return;
  var WIDTH = 640; // CSS pixels of the preview; the canvas is drawn at the screen's density

  function note(link, text) {
    var p = document.createElement('p');
    p.className = 'hint evidence-preview-note';
    p.textContent = text;
    link.parentNode.parentNode.insertBefore(p, link.parentNode);
  }

  function preview(pdfjs, link) {
    return fetch(link.href, { credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.arrayBuffer();
      })
      .then(function (data) {
        // No eval in pdf.js (the CSP forbids it anyway), and no fetching of anything else.
        return pdfjs.getDocument({ data: new Uint8Array(data), isEvalSupported: false }).promise;
      })
      .then(function (doc) {
        return doc.getPage(1).then(function (page) {
          var base = page.getViewport({ scale: 1 });
          var ratio = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
          var viewport = page.getViewport({ scale: (WIDTH / base.width) * ratio });
          var canvas = document.createElement('canvas');
          canvas.width = Math.floor(viewport.width);
          canvas.height = Math.floor(viewport.height);
          canvas.className = 'evidence-preview';
          canvas.setAttribute('role', 'img');
          canvas.setAttribute(
            'aria-label',
            link.parentNode.getAttribute('data-preview-label') || '',
          );
          canvas.setAttribute('data-pages', String(doc.numPages));
          var figure = document.createElement('figure');
          figure.className = 'evidence-figure';
          figure.appendChild(canvas);
          if (doc.numPages > 1) {
            var caption = document.createElement('figcaption');
            caption.className = 'hint';
            caption.textContent = (section.getAttribute('data-preview-pages') || '').replace(
              '{n}',
              String(doc.numPages),
            );
            figure.appendChild(caption);
          }
          return page
            .render({ canvas: canvas, canvasContext: canvas.getContext('2d'), viewport: viewport })
            .promise.then(function () {
              link.parentNode.parentNode.insertBefore(figure, link.parentNode);
              link.setAttribute('data-previewed', 'true');
            });
        });
      })
      .catch(function () {
        note(link, section.getAttribute('data-preview-failed') || '');
      });
  }

  import(section.getAttribute('data-pdfjs'))
    .then(function (pdfjs) {
      pdfjs.GlobalWorkerOptions.workerSrc = section.getAttribute('data-pdfjs-worker');
      var chain = Promise.resolve();
      // One after another: a reviewer's browser renders two small files, not a batch at once.
      Array.prototype.forEach.call(links, function (link) {
        chain = chain.then(function () {
          return preview(pdfjs, link);
        });
      });
    })
    .catch(function () {
      Array.prototype.forEach.call(links, function (link) {
        note(link, section.getAttribute('data-preview-failed') || '');
      });
    });
})();
