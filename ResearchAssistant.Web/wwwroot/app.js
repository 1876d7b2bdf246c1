// ResearchAssistant's browser side: starting Blazor, the reconnect dialog, Enter-to-send, and following the conversation.
(() => {
    'use strict';
    const narrowQuery = window.matchMedia('(max-width: 768px)');

    window.researchAssistant = {
        isNarrow: () => narrowQuery.matches,

        // Keeps the newest message in view while the user is reading at the bottom; leaves them alone if they scrolled up.
        followConversation: (log, force) => {
            if (!log) return;
            const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
            if (force || nearBottom) log.scrollTop = log.scrollHeight;
        },
    };

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

    // Enter sends; Shift+Enter (or Enter while composing with an IME) is a new line.
    document.addEventListener('keydown', event => {
        const target = event.target;
        if (!(target instanceof HTMLTextAreaElement) || !target.hasAttribute('data-send-on-enter')) return;
        if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
        event.preventDefault();
        target.form?.requestSubmit();
    });
})();
