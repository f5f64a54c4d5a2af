// Pages shown in Magento's popup: a "Close this window" button, shown only when this window was opened by another
// (the Magento admin reloads its grid when the popup closes). Served from our origin: the CSP allows no inline script.
const close = document.querySelector('[data-close-window]');
if (close && window.opener) {
  close.hidden = false;
  close.addEventListener('click', () => window.close());
}
