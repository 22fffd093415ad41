// The page's only script, inlined with a CSP nonce. It polls /api/state (tables rendered by the server,
// numbers for the charts), draws the charts as SVG polylines, and posts actions with the CSRF secret.
// Plain ES2020 for any browser; no template literals, so it can sit inside this TypeScript string.
export const dashboardScript = `
'use strict';
(function () {
  var meta = function (name) { return document.querySelector('meta[name="' + name + '"]').content; };
  var csrf = meta('anymq-csrf');
  var intervalMs = Number(meta('anymq-interval'));
  var samples = [];
  var selected = null;
  var busy = false;

  function setStatus(text, failed) {
    var status = document.getElementById('status');
    status.textContent = text;
    status.className = failed ? 'dead' : 'muted';
  }

  function countsOf(rows) {
    var total = { ready: 0, inFlight: 0, dead: 0 };
    rows.forEach(function (row) {
      if (!row.stats || (selected && row.query !== selected)) return;
      total.ready += row.stats.ready;
      total.inFlight += row.stats.inFlight || 0;
      total.dead += row.stats.deadLettered || 0;
    });
    return total;
  }

  function polyline(values, max, color) {
    var step = 600 / 59;
    var points = values.map(function (value, index) {
      var x = 600 - (values.length - 1 - index) * step;
      var y = 130 - (max === 0 ? 0 : (value / max) * 120);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    return '<polyline fill="none" stroke-width="2" stroke="' + color + '" points="' + points.join(' ') + '"/>';
  }

  function draw(svg, series, symmetric) {
    var all = [].concat.apply([], series.map(function (one) { return one.values; }));
    var max = Math.max.apply(null, [1].concat(all.map(Math.abs)));
    var shift = symmetric ? function (v) { return v + max; } : function (v) { return v; };
    var lines = series.map(function (one) { return polyline(one.values.map(shift), symmetric ? 2 * max : max, one.color); });
    var label = '<text x="4" y="12" font-size="10" fill="#6b7385">' + (symmetric ? '±' : '') + max.toFixed(max < 10 ? 1 : 0) + '</text>';
    var axis = symmetric ? '<line x1="0" x2="600" y1="70" y2="70" stroke="#e6e9ef"/>' : '';
    svg.innerHTML = axis + lines.join('') + label;
  }

  function redrawCharts() {
    var last = samples.slice(-60);
    var rates = [];
    for (var index = 1; index < last.length; index++) {
      var seconds = Math.max((last[index].at - last[index - 1].at) / 1000, 0.001);
      rates.push({
        ready: (last[index].ready - last[index - 1].ready) / seconds,
        inFlight: (last[index].inFlight - last[index - 1].inFlight) / seconds,
        dead: (last[index].dead - last[index - 1].dead) / seconds,
      });
    }
    var pick = function (list, field) { return list.map(function (one) { return one[field]; }); };
    draw(document.getElementById('depth-chart'), [
      { values: pick(last, 'ready'), color: '#2b6cb0' },
      { values: pick(last, 'inFlight'), color: '#c05621' },
      { values: pick(last, 'dead'), color: '#c53030' },
    ], false);
    draw(document.getElementById('rate-chart'), [
      { values: pick(rates, 'ready'), color: '#2b6cb0' },
      { values: pick(rates, 'inFlight'), color: '#c05621' },
      { values: pick(rates, 'dead'), color: '#c53030' },
    ], true);
    var now = rates[rates.length - 1];
    var signed = function (value) { return (value >= 0 ? '+' : '') + value.toFixed(1) + '/s'; };
    document.getElementById('rates').textContent = now ? 'now: ready ' + signed(now.ready) + ' · dead-lettered ' + signed(now.dead) : '';
  }

  function request(path, options) {
    return fetch(path, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, options || {})).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
        return body;
      });
    });
  }

  function refresh() {
    if (busy) return Promise.resolve();
    busy = true;
    return request('/api/state').then(function (state) {
      document.getElementById('destinations').innerHTML = state.html;
      document.getElementById('updated').textContent = new Date(state.at).toISOString();
      var counts = countsOf(state.rows);
      counts.at = state.at;
      samples.push(counts);
      if (samples.length > 120) samples.shift();
      redrawCharts();
      if (!selected) return;
      return request('/api/dead-letters?' + selected).then(function (dead) {
        document.getElementById('dead-letters').innerHTML = dead.html;
        document.getElementById('dead-letters-of').textContent = 'of ' + dead.label;
      });
    }).catch(function (error) {
      setStatus('refresh failed: ' + error.message, true);
    }).then(function () { busy = false; });
  }

  function act(button) {
    var action = button.getAttribute('data-action');
    var target = button.getAttribute('data-target');
    if (action === 'show-dead-letters') {
      selected = target;
      samples = [];
      var row = button.closest('tr');
      document.getElementById('chart-subject').textContent = 'of ' + (row ? row.getAttribute('data-destination') : target);
      return refresh();
    }
    var confirmText = button.getAttribute('data-confirm');
    if (confirmText && !window.confirm(confirmText)) return;
    var payload = { action: action, target: target, id: button.getAttribute('data-id') || undefined };
    if (action === 'edit') {
      var body = window.prompt('New body (JSON), redriven as a fresh message:', button.getAttribute('data-body'));
      if (body === null) return;
      payload.body = body;
    }
    button.disabled = true;
    setStatus(action + '…', false);
    return request('/api/action', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-anymq-csrf': csrf },
      body: JSON.stringify(payload),
    }).then(function (result) {
      setStatus(result.message, false);
    }).catch(function (error) {
      setStatus(error.message, true);
    }).then(function () {
      button.disabled = false;
      return refresh();
    });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (button) act(button);
  });
  refresh();
  setInterval(refresh, intervalMs);
})();
`
