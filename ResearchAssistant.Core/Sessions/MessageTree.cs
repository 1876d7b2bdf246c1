using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

/// <summary>Where a message sits in its session's tree: its <see cref="SessionEvent.Depth"/> and <see cref="SessionEvent.JumpId"/>.</summary>
public readonly record struct TreePlace(int Depth, Guid? JumpId)
{
    /// <summary>A first message (or one not placed yet): depth 0, its own jump.</summary>
    public static readonly TreePlace Root = new(0, null);
}

/// <summary>
/// Skew-binary jump pointers on the message tree (Myers, 1983): each message stores its depth and one "jump" to an
/// ancestor, chosen at append time from its parent's alone, so that "the ancestor of L at depth d" takes
/// O(log depth) steps, each one lookup by primary key, and "is X on the branch ending at L" is one such query. That
/// is what keeps the recall's branch check independent of how long the conversation is, with no limit on how far
/// back it reaches.
/// </summary>
public static class MessageTree
{
    /// <summary>
    /// The depth a message at <paramref name="depth"/> jumps to. The scheme makes it a function of the depth alone:
    /// the jump spans the smallest weight (2^k − 1) of the depth written in skew binary, found greedily.
    /// </summary>
    public static int JumpDepth(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var rest = depth;
        var smallest = 0;
        while (rest > 0)
        {
            var weight = 1;
            while (weight * 2 + 1 <= rest)
            {
                weight = weight * 2 + 1;
            }
            rest -= weight;
            smallest = weight;
        }
        return depth - smallest;
    }

    /// <summary>
    /// The place of a new child of <paramref name="parentId"/>: one deeper, and its jump is the parent's jump's jump
    /// when the parent's two jumps span equal lengths (they merge into one twice as long, plus one), else the parent.
    /// </summary>
    /// <param name="jumpOf">The stored <see cref="SessionEvent.JumpId"/> of a message (only the parent's jump is asked for).</param>
    public static TreePlace Below(Guid parentId, TreePlace parent, Func<Guid, Guid?> jumpOf)
    {
        var jumpDepth = JumpDepth(parent.Depth);
        if (parent.Depth - jumpDepth != jumpDepth - JumpDepth(jumpDepth))
        {
            return new TreePlace(parent.Depth + 1, parentId);
        }
        // A first message is its own jump: stored as null.
        var parentJump = parent.JumpId ?? parentId;
        return new TreePlace(parent.Depth + 1, jumpOf(parentJump) ?? parentJump);
    }

    /// <summary>
    /// What placing a child, and a grandchild, of <paramref name="messageId"/> needs, in one statement: the message's
    /// place and the jumps of its next three jumps (<see cref="Below"/> asks for the parent's jump's jump; a
    /// grandchild asks for its parent's, which is the message itself or its jump's jump). Null when the message is not
    /// there.
    /// </summary>
    internal static async Task<TreeNeighbourhood?> ReadAsync(AppDbContext db, Guid messageId, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<NeighbourhoodRow>($"""
            SELECT m."Depth", m."JumpId" AS "Jump1", j1."JumpId" AS "Jump2", j2."JumpId" AS "Jump3"
            FROM "SessionEvents" m
            LEFT JOIN "SessionEvents" j1 ON j1."Id" = m."JumpId"
            LEFT JOIN "SessionEvents" j2 ON j2."Id" = j1."JumpId"
            WHERE m."Id" = {messageId}
            """).ToListAsync(ct);
        if (rows.Count == 0)
        {
            return null;
        }
        var row = rows[0];
        var jumps = new Dictionary<Guid, Guid?> { [messageId] = row.Jump1 };
        if (row.Jump1 is { } jump1)
        {
            jumps[jump1] = row.Jump2;
            if (row.Jump2 is { } jump2)
            {
                jumps[jump2] = row.Jump3;
            }
        }
        return new TreeNeighbourhood(messageId, new TreePlace(row.Depth, row.Jump1), jumps);
    }

    private sealed record NeighbourhoodRow(int Depth, Guid? Jump1, Guid? Jump2, Guid? Jump3);
}

/// <summary>A placed message and the jumps read around it (<see cref="MessageTree.ReadAsync"/>).</summary>
internal sealed class TreeNeighbourhood(Guid messageId, TreePlace place, Dictionary<Guid, Guid?> jumps)
{
    public Guid MessageId => messageId;
    public TreePlace Place => place;

    /// <summary>The place of a new child of this message.</summary>
    public TreePlace Child() => MessageTree.Below(messageId, place, JumpOf);

    /// <summary>The place of a new child of <paramref name="childId"/>, itself a new child of this message placed at <paramref name="child"/>.</summary>
    public TreePlace Grandchild(Guid childId, TreePlace child) => MessageTree.Below(childId, child, JumpOf);

    private Guid? JumpOf(Guid id) => jumps.TryGetValue(id, out var jump)
        ? jump
        : throw new InvalidOperationException("A jump pointer was needed beyond those read; MessageTree.ReadAsync must read further.");
}

/// <summary>
/// Places messages written in bulk (seeders, tests) without reading the database: remembers the place of every
/// message it placed, so parents must be placed before their children.
/// </summary>
public sealed class TreePlacer
{
    private readonly Dictionary<Guid, TreePlace> _places = [];

    /// <summary>Sets <paramref name="evt"/>'s depth and jump from its parent (a message with no parent is a first message).</summary>
    public void Place(SessionEvent evt)
    {
        var place = evt.ParentId is { } parentId ? MessageTree.Below(parentId, _places[parentId], id => _places[id].JumpId) : TreePlace.Root;
        (evt.Depth, evt.JumpId) = (place.Depth, place.JumpId);
        _places[evt.Id] = place;
    }

    /// <summary>Places <paramref name="events"/> in order (parents first) and returns them.</summary>
    public static IReadOnlyList<SessionEvent> PlaceAll(params IReadOnlyList<SessionEvent> events)
    {
        var placer = new TreePlacer();
        foreach (var evt in events)
        {
            placer.Place(evt);
        }
        return events;
    }
}
