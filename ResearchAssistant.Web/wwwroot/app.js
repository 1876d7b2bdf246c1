// ResearchAssistant's browser side: starting Blazor, the reconnect dialog, Enter-to-send, and following the conversation.
(() => {
    'use strict';
    const narrowQuery = window.matchMedia('(max-width: 768px)');

    window.researchAssistant = {
        isNarrow: () => narrowQuery.matches,

        // Keeps the newest message in view while the user is reading at the bottom; leaves them alone if they scrolled up.
        followConversation: log => {
            if (!log || log.dataset.loadingOlder) return;
            const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
            if (nearBottom) log.scrollTop = log.scrollHeight;
        },

        // Brings the newest message into view (a conversation just opened). A function of its own rather than a flag:
        // every type a circuit passes to JS costs it serializer metadata of its own for as long as it is open.
        scrollToNewest: log => {
            if (!log || log.dataset.loadingOlder) return;
            log.scrollTop = log.scrollHeight;
        },

        // Brings a message (a search result) to the middle of the conversation and gives it focus, so keyboard and
        // screen-reader users land on it too.
        showMessage: (log, id) => {
            const message = document.getElementById(id);
            if (!log || !message) return;
            message.scrollIntoView({ block: 'center' });
            message.focus({ preventScroll: true });
        },

        // Loads the page above when its button scrolls into view, keeping the reader's place: the content that
        // grows above must not push what they are reading down.
        watchOlder: (log, conversation) => {
            if (!log) return;
            log._olderObserver?.disconnect();
            log._olderObserver = new IntersectionObserver(async entries => {
                if (!entries.some(e => e.isIntersecting) || log.dataset.loadingOlder) return;
                log.dataset.loadingOlder = '1';
                const before = log.scrollHeight;
                try {
                    await conversation.invokeMethodAsync('LoadOlderFromScroll');
                    await new Promise(requestAnimationFrame);
                    log.scrollTop += log.scrollHeight - before;
                } finally {
                    delete log.dataset.loadingOlder;
                    const next = log.querySelector('#load-older');
                    if (next) { log._olderObserver.unobserve(next); log._olderObserver.observe(next); }
                }
            }, { root: log, rootMargin: '200px 0px 0px 0px' });
            const button = log.querySelector('#load-older');
            if (button) log._olderObserver.observe(button);
        },
        // The same downwards, for a window opened at an earlier message (a search result): appending below keeps the
        // reader's place by itself.
        watchNewer: (log, conversation) => {
            if (!log) return;
            log._newerObserver?.disconnect();
            log._newerObserver = new IntersectionObserver(async entries => {
                if (!entries.some(e => e.isIntersecting) || log.dataset.loadingNewer) return;
                log.dataset.loadingNewer = '1';
                try {
                    await conversation.invokeMethodAsync('LoadNewerFromScroll');
                    await new Promise(requestAnimationFrame);
                } finally {
                    delete log.dataset.loadingNewer;
                    const next = log.querySelector('#load-newer');
                    if (next) { log._newerObserver.unobserve(next); log._newerObserver.observe(next); }
                }
            }, { root: log, rootMargin: '0px 0px 200px 0px' });
            const button = log.querySelector('#load-newer');
            if (button) log._newerObserver.observe(button);
        },
    };

    // A message's action buttons are shared markup without handlers of their own (ConversationMessages): a click on one
    // becomes a 'messageaction' event naming the action and the message, handled once for the whole conversation. The
    // DOM event has another name than the Blazor event: with the same name Blazor dispatches it twice (aspnetcore#56521).
    document.addEventListener('click', event => {
        const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
        const message = button?.closest('article.message');
        if (!button || !message || button.disabled) return;
        button.dispatchEvent(new CustomEvent('ra-messageaction', {
            bubbles: true,
            detail: { action: button.dataset.action, messageId: message.id.replace(/^message-/, '') },
        }));
    });
    Blazor.registerCustomEventType('messageaction', {
        browserEventName: 'ra-messageaction',
        createEventArgs: event => ({ action: event.detail.action, messageId: event.detail.messageId }),
    });

    // Patient reconnection: a restarting server is back within seconds to minutes, and the page should recover by itself.
    Blazor.start({
        circuit: {
            reconnectionOptions: { maxRetries: 1000, retryIntervalMilliseconds: 1500 },
        },
    });

    // The .NET 9 script only toggles classes on the dialog. When the server answers but no longer knows this circuit
    // (it restarted), the page must reload to get a new one; the conversation itself is all in the database.
    const modal = document.getElementById('components-reconnect-modal');
    if (modal) {
        new MutationObserver(() => {
            if (modal.classList.contains('components-reconnect-rejected')) location.reload();
        }).observe(modal, { attributes: true, attributeFilter: ['class'] });
        document.getElementById('components-reconnect-button')?.addEventListener('click', async () => {
            const reconnected = await Blazor.reconnect();
            if (!reconnected) location.reload();
        });
    }

    // The account menu is a <details>: like any menu, it closes on a click elsewhere and on Escape.
    const closeAccountMenus = except => {
        for (const menu of document.querySelectorAll('details.account-menu[open]')) {
            if (menu !== except) menu.open = false;
        }
    };
    document.addEventListener('click', event => closeAccountMenus(event.target.closest?.('details.account-menu')));
    document.addEventListener('keydown', event => {
        if (event.key !== 'Escape') return;
        const open = document.querySelector('details.account-menu[open]');
        if (!open) return;
        closeAccountMenus(null);
        open.querySelector('summary')?.focus();
    });

    // Enter sends; Shift+Enter (or Enter while composing with an IME) is a new line.
    document.addEventListener('keydown', event => {
        const target = event.target;
        if (!(target instanceof HTMLTextAreaElement) || !target.hasAttribute('data-send-on-enter')) return;
        if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
        event.preventDefault();
        target.form?.requestSubmit();
    });
})();
