namespace ResearchAssistant.Core.Search;

/// <summary>
/// English words too common to say anything about a message. They are neither indexed nor searched: they would make
/// the index several times larger and match almost every message. Compared after case and diacritic folding, before
/// stemming, with apostrophes already removed ("don't" is "dont").
/// </summary>
internal static class StopWords
{
    private static readonly HashSet<string> Words = new(StringComparer.Ordinal)
    {
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "arent", "as",
        "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "cant", "cannot",
        "could", "couldnt", "did", "didnt", "do", "does", "doesnt", "doing", "dont", "down", "during", "each", "few", "for",
        "from", "further", "had", "hadnt", "has", "hasnt", "have", "havent", "having", "he", "hed", "hell", "her", "here",
        "heres", "hers", "herself", "hes", "him", "himself", "his", "how", "hows", "i", "id", "if", "ill", "im", "in",
        "into", "is", "isnt", "it", "its", "itself", "ive", "lets", "me", "more", "most", "mustnt", "my", "myself", "no",
        "nor", "not", "of", "off", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over",
        "own", "same", "shant", "she", "shed", "shell", "shes", "should", "shouldnt", "so", "some", "such", "than", "that",
        "thats", "the", "their", "theirs", "them", "themselves", "then", "there", "theres", "these", "they", "theyd",
        "theyll", "theyre", "theyve", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was",
        "wasnt", "we", "wed", "well", "were", "werent", "weve", "what", "whats", "when", "whens", "where", "wheres",
        "which", "while", "who", "whom", "whos", "why", "whys", "will", "with", "wont", "would", "wouldnt", "you", "youd",
        "youll", "your", "youre", "yours", "yourself", "yourselves", "youve",
    };

    public static bool Contains(string word) => Words.Contains(word);

    public static IReadOnlyCollection<string> All => Words;
}
