namespace Ballast.Server.Dashboard;

/// <summary>
/// The dashboard's only script, served from <c>/ui/dashboard.js</c> (the CSP allows scripts from the site, none
/// inline). On a live page (<c>main[data-refresh]</c>) it fetches the same address every few seconds and swaps the new
/// page's <c>main</c> in place: no navigation, no scroll jump. It skips a turn while the tab is hidden (and catches up
/// when it shows again), while a field or button of the page has the focus or text of it is selected (a swap would take
/// them away); when the session has ended (the fetch lands on the login form) it stops and says so; a failed fetch
/// leaves the last content, marked stale, and tries again next turn.
/// </summary>
internal static class DashboardScript
{
    public const string Source = """
        (() => {
          'use strict';
          const main = document.querySelector('main[data-refresh]');
          const seconds = main ? Number(main.dataset.refresh) : 0;
          if (!(seconds > 0) || !window.fetch || !window.DOMParser) {
            return;
          }

          let busy = false;
          let stopped = false;
          let timer = 0;

          function note(text, stale) {
            const element = document.getElementById('refresh-note');
            if (element) {
              element.hidden = false;
              element.classList.toggle('stale', stale);
              if (text) {
                element.textContent = text;
              }
            }
          }

          function busyReader() {
            const active = document.activeElement;
            if (active !== null && main.contains(active) && active.matches('input, select, textarea, button')) {
              return true;
            }

            const selection = window.getSelection();
            return selection !== null && !selection.isCollapsed && main.contains(selection.anchorNode);
          }

          async function refresh() {
            if (busy || stopped || document.hidden || busyReader()) {
              return;
            }

            busy = true;
            try {
              const response = await fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'text/html' } });
              const next = response.ok && !response.redirected
                ? new DOMParser().parseFromString(await response.text(), 'text/html')
                : null;
              const fresh = next === null ? null : next.querySelector('main[data-refresh]');
              if (response.redirected || (response.ok && fresh === null)) {
                stopped = true;
                window.clearInterval(timer);
                note('Stopped updating: the session has ended or the page is gone. Reload the page.', true);
                return;
              }

              if (fresh === null) {
                note('Could not update (HTTP ' + response.status + '); showing the last data, trying again.', true);
                return;
              }

              main.replaceChildren(...Array.from(fresh.childNodes, node => document.importNode(node, true)));
              document.title = next.title;
              main.dataset.refreshedAt = new Date().toISOString();
              note(null, false);
            } catch (error) {
              note('Could not update (' + error.message + '); showing the last data, trying again.', true);
            } finally {
              busy = false;
            }
          }

          note(null, false);
          timer = window.setInterval(refresh, seconds * 1000);
          document.addEventListener('visibilitychange', () => {
            if (!document.hidden) {
              refresh();
            }
          });
        })();
        """;
}
