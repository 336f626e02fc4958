/*
 * The recordings button of the page: shown only when the server records (GET streams says `recordings: true`;
 * asking `recordings` of a server that does not record would log a 404 in the console). A click lists the segments, newest first, with
 * links to download them (the segment being written is marked; it plays up to its last picture). Plain ES5, no
 * framework, like the rest of the page; URLs are relative, so it works under a route prefix, and pass on ?token=.
 */
(function () {
  'use strict';
  /** One segment as GET recordings lists it (src/server/recordings.ts). */
  /** @typedef {{ name: string, start: string | number, duration: number, size: number, open?: boolean }} Recording */

  var buttonEl = document.getElementById('recordings');
  var panelEl = document.getElementById('recordings-list');
  if (!buttonEl || !panelEl || !window.fetch) return;
  var button = buttonEl;
  var panel = panelEl;

  /** @param {string} name */
  function withToken(name) {
    var url = new URL(name, window.location.href);
    var token = new URL(window.location.href).searchParams.get('token');
    if (token) url.searchParams.set('token', token);
    return url.toString();
  }

  /** @param {number} bytes */
  function size(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + ' MB';
    return Math.max(1, Math.round(bytes / 1024)) + ' kB';
  }

  /** @returns {Promise<Recording[]>} */
  function load() {
    return fetch(withToken('recordings'), { cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    });
  }

  /** @param {Recording[]} list */
  function render(list) {
    panel.textContent = '';
    var heading = document.createElement('h2');
    heading.textContent = list.length ? 'Recordings' : 'No recordings yet';
    panel.appendChild(heading);
    var ol = document.createElement('ol');
    list
      .slice()
      .reverse()
      .forEach(function (item) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = withToken('recordings/' + encodeURIComponent(item.name));
        a.setAttribute('download', item.name);
        a.textContent = new Date(item.start).toLocaleString();
        li.appendChild(a);
        li.appendChild(
          document.createTextNode(' ' + Math.round(item.duration) + ' s, ' + size(item.size) + (item.open ? ' (recording)' : ''))
        );
        ol.appendChild(li);
      });
    panel.appendChild(ol);
  }

  button.addEventListener('click', function () {
    if (!panel.hidden) {
      panel.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    load().then(
      function (list) {
        render(list);
        panel.hidden = false;
        button.setAttribute('aria-expanded', 'true');
      },
      function () {
        panel.hidden = true;
      }
    );
  });

  // Shown only when the server records.
  fetch(withToken('streams'), { cache: 'no-store', credentials: 'same-origin' })
    .then(function (res) {
      return res.ok ? res.json() : null;
    })
    .then(
      function (info) {
        button.hidden = !(info && info.recordings === true);
      },
      function () {
        button.hidden = true;
      }
    );
})();
