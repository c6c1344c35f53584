<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#9ca3af" stroke-width="1.5" stroke-linecap="round">
    <circle cx="12" cy="12" r="2.25" />
    <path d="M7.76 7.76a6 6 0 0 0 0 8.48M16.24 16.24a6 6 0 0 0 0-8.48" opacity=".7" />
    <path d="M4.93 4.93a10 10 0 0 0 0 14.14M19.07 19.07a10 10 0 0 0 0-14.14" opacity=".4" />
</svg>
