using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Tests.Sessions;

/// <summary>
/// The jump pointers' math, on random trees in memory, against the obvious answers found by walking parent links:
/// every jump lands on an ancestor at the depth <see cref="MessageTree.JumpDepth"/> says, and the ancestor at any depth
/// is reached in O(log depth) steps by jumping while the jump does not overshoot and stepping to the parent otherwise
/// (the rule the recall's SQL follows).
/// </summary>
public sealed class MessageTreeTests
{
    [Fact]
    public void The_closed_form_jump_depth_is_the_schemes_recursive_definition()
    {
        // Myers' rule, over depths only: a root jumps to itself; a child jumps to its parent's jump's jump when the
        // parent's two jumps span equal lengths, else to its parent.
        var jump = new List<int> { 0 };
        for (var depth = 1; depth <= 70_000; depth++)
        {
            var parent = depth - 1;
            var (j, jj) = (jump[parent], jump[jump[parent]]);
            jump.Add(parent - j == j - jj ? jj : parent);
        }
        for (var depth = 0; depth < jump.Count; depth++)
        {
            Assert.Equal(jump[depth], MessageTree.JumpDepth(depth));
        }
    }

    [Theory]
    [InlineData(1, 3_000, 0.0)]    // one long branch
    [InlineData(2, 3_000, 0.05)]   // mostly a branch, some forks (edits, regenerations)
    [InlineData(3, 2_000, 0.5)]    // bushy
    public void Jumps_land_on_ancestors_and_find_any_ancestor_in_logarithmic_steps(int seed, int count, double forkRate)
    {
        var random = new Random(seed);
        var tree = RandomTree(random, count, forkRate);
        var byId = tree.ToDictionary(e => e.Id);

        foreach (var evt in tree)
        {
            var ancestors = NaiveAncestors(byId, evt);
            Assert.Equal(ancestors.Count, evt.Depth);
            var expectedJump = evt.Depth == 0 ? (Guid?)null : ancestors[evt.Depth - MessageTree.JumpDepth(evt.Depth) - 1];
            Assert.Equal(expectedJump, evt.JumpId);
        }

        var worstRatio = 0.0;
        for (var query = 0; query < 3_000; query++)
        {
            var from = tree[random.Next(tree.Count)];
            var targetDepth = random.Next(from.Depth + 1);
            var (found, steps) = AncestorAtDepth(byId, from, targetDepth);
            var expected = from.Depth == targetDepth ? from.Id : NaiveAncestors(byId, from)[from.Depth - targetDepth - 1];
            Assert.Equal(expected, found.Id);
            if (from.Depth > 1)
            {
                worstRatio = Math.Max(worstRatio, steps / Math.Log2(from.Depth));
            }
        }
        // The scheme's bound is about 3 log2(depth) steps; a walk up parent links would take up to depth steps.
        Assert.InRange(worstRatio, 0, 3.5);
    }

    [Fact]
    public void A_placer_gives_siblings_the_same_place_and_a_first_message_no_jump()
    {
        var root = Message(null);
        var child = Message(root.Id);
        var sibling = Message(root.Id);
        var edit = Message(null);
        TreePlacer.PlaceAll(root, child, sibling, edit);

        Assert.Equal((0, (Guid?)null), (root.Depth, root.JumpId));
        Assert.Equal((1, (Guid?)root.Id), (child.Depth, child.JumpId));
        Assert.Equal((child.Depth, child.JumpId), (sibling.Depth, sibling.JumpId));
        Assert.Equal((0, (Guid?)null), (edit.Depth, edit.JumpId));
    }

    /// <summary>The search the recall's SQL runs: jump while the jump does not go above the target depth, else step to the parent.</summary>
    private static (SessionEvent Found, int Steps) AncestorAtDepth(Dictionary<Guid, SessionEvent> byId, SessionEvent from, int depth)
    {
        var at = from;
        var steps = 0;
        while (at.Depth > depth)
        {
            var jump = byId[at.JumpId!.Value];
            at = jump.Depth >= depth ? jump : byId[at.ParentId!.Value];
            steps++;
        }
        return (at, steps);
    }

    /// <summary>Parent, grandparent... up to the root.</summary>
    private static List<Guid> NaiveAncestors(Dictionary<Guid, SessionEvent> byId, SessionEvent evt)
    {
        var ancestors = new List<Guid>();
        for (var parent = evt.ParentId; parent is { } id; parent = byId[id].ParentId)
        {
            ancestors.Add(id);
        }
        return ancestors;
    }

    /// <summary>
    /// Grows a tree like a conversation's: mostly each message below the newest one, sometimes (forkRate) below a
    /// random earlier message, and a few new first messages (an edited first question).
    /// </summary>
    internal static List<SessionEvent> RandomTree(Random random, int count, double forkRate)
    {
        var placer = new TreePlacer();
        var tree = new List<SessionEvent>(count);
        for (var i = 0; i < count; i++)
        {
            Guid? parent = i == 0 || random.NextDouble() < 0.002 ? null
                : random.NextDouble() < forkRate ? tree[random.Next(tree.Count)].Id
                : tree[^1].Id;
            var evt = Message(parent);
            placer.Place(evt);
            tree.Add(evt);
        }
        return tree;
    }

    internal static SessionEvent Message(Guid? parentId) => new()
    {
        Id = Guid.NewGuid(),
        Kind = EventKind.UserMessage,
        ParentId = parentId,
        Author = "tests",
        Status = EventStatus.Complete,
    };
}
